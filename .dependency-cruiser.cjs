// The dependency direction of docs/architecture.md, checked by dependency-cruiser in `npm test`
// (`npm run deps`). Each rule's name says what it forbids; a violation prints that name and fails the run.
//
//   bin ─▶ cli ─▶ local ─▶ infra ─▶ playbooks ─▶ functions/shared
//           │       │        │                     ▲
//           └───────┴────────┴─▶ functions ─────────┘
//   (bench may import any of these, and test/support; nothing imports test/ or bench/)
//
// Rules reference: https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md

/** Folders that hold the project's source (tests and fixtures live in test/). */
const SOURCE = '^(functions|infra|playbooks|cli|local|bench|bin)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'functions-imports-no-infra',
      comment: 'Lambda code is bundled and deployed alone: it must not reach the CDK app that deploys it.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^infra/' },
    },
    {
      name: 'functions-imports-no-cli',
      comment: 'Lambda code must not depend on the console (cli/).',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^cli/' },
    },
    {
      name: 'functions-imports-no-local',
      comment: 'Lambda code must not depend on the local runtime, engine or sandbox (local/).',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^local/' },
    },
    {
      name: 'functions-imports-no-playbooks',
      comment: 'Lambda code must not depend on the state machine definitions (playbooks/).',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^playbooks/' },
    },
    {
      name: 'functions-shared-imports-no-function',
      comment:
        'functions/shared is the bottom layer: it imports no function folder (router, actions, approval...).',
      severity: 'error',
      from: { path: '^functions/shared/' },
      to: { path: '^functions/', pathNot: '^functions/shared/' },
    },
    {
      name: 'playbooks-build-state-machines-only',
      comment:
        'A playbook builds a state machine: it may import aws-cdk-lib, constructs, playbooks/ itself, ' +
        'functions/shared/, and of a function only its errors.ts (the names a Catch matches) and model.ts (the ' +
        "payload it is sent); nothing of infra/, cli/, local/ or a function's code.",
      severity: 'error',
      from: { path: '^playbooks/' },
      to: {
        pathNot: [
          '^playbooks/',
          '^functions/shared/',
          '^functions/[^/]+/(errors|model)\\.ts$',
          '^node_modules/(aws-cdk-lib|constructs)/',
        ],
      },
    },
    {
      name: 'infra-imports-no-cli-or-local',
      comment:
        'The CDK app deploys functions and playbooks; it must not depend on the console or the local runtime.',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^(cli|local)/' },
    },
    {
      name: 'local-imports-no-cli',
      comment:
        'The local runtime, engine and sandbox sit below the console: cli/ uses local/, never the reverse.',
      severity: 'error',
      from: { path: '^local/' },
      to: { path: '^cli/' },
    },
    {
      name: 'nothing-imports-tests-or-bench',
      comment: 'Source never imports test/ (tests, support, fixtures) or bench/; bench may use test/support.',
      severity: 'error',
      from: { path: SOURCE, pathNot: '^bench/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      comment:
        'No import circle anywhere in the project (type-only imports count: they are circles for a reader).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'Every import resolves (an alias the checker cannot follow would hide a violation).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out|\\.cordon)/' },
    // TypeScript 7 has no JavaScript compiler API that dependency-cruiser can load; swc parses the sources.
    parser: 'swc',
    // Type-only imports are dependencies too: `import type` from infra/ in functions/ is still a way back up.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      // package.json `imports` (#shared/* → functions/shared/*.ts) and `exports` of packages.
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
