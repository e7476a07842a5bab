/** EC2 tags: CreateTags and DeleteTags (DescribeTags is with the other Describes). */
import type { CreateTagsCommandInput, DeleteTagsCommandInput } from '@aws-sdk/client-ec2';
import type { HandlerMap } from '../context.ts';
import { tagMap } from '../context.ts';
import { requireDefined, resourceType, setTags } from './lookups.ts';

/** EC2's tag commands. */
export const tagHandlers: HandlerMap = {
  CreateTags: (ctx, input: CreateTagsCommandInput) => {
    const resources = requireDefined(ctx, input.Resources, 'ResourceId');
    for (const id of resources) resourceType(ctx, id);
    for (const id of resources) setTags(ctx.state, id, tagMap(input.Tags));
    return {};
  },

  DeleteTags: (ctx, input: DeleteTagsCommandInput) => {
    const resources = requireDefined(ctx, input.Resources, 'ResourceId');
    for (const id of resources) resourceType(ctx, id);
    for (const id of resources) {
      const tags = ctx.state.ec2.tags[id];
      if (!tags) continue;
      if (!input.Tags) delete ctx.state.ec2.tags[id];
      else {
        for (const tag of input.Tags) {
          if (tag.Key !== undefined && (tag.Value === undefined || tags[tag.Key] === tag.Value))
            delete tags[tag.Key];
        }
        if (Object.keys(tags).length === 0) delete ctx.state.ec2.tags[id];
      }
    }
    return {};
  },
};
