#!/usr/bin/env node
// The `cordon` command. Cordon is written in TypeScript and run with tsx's loader, so that the console,
// the local runtime and the deployed handlers are the same source.
import { register } from 'tsx/esm/api';

// The SDK warns on every start that its 2027 releases need Node 22; Cordon supports Node 20 and later.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main, installProcessHandlers } = await import('../cli/main.ts');
installProcessHandlers();
process.exitCode = await main(process.argv);
