// Images are pinned to a version tag or a digest, so a deploy is reproducible and a rollback
// redeploys exactly what ran before.
import * as docker from "@pulumi/docker";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { unpinnedReason } from "../lib/images";
import type { Rule } from "../lib/rule";
import { stackConfigProperty } from "../lib/stack";

const FIX = "Pin a version tag (postgres:16.4-alpine, or the commit for our own images) or a digest (name@sha256:...).";

export const imagesPinned: Rule<ResourceValidationPolicy> = {
  staging: "advisory",
  stagingReason: "trying a new upstream image on staging is legitimate; production must be reproducible",
  policy: {
    name: "images-pinned",
    description: "Container images must be pinned: no `latest` or other moving tag and no untagged image, for containers, pulled images (RemoteImage) and built images (Image).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...stackConfigProperty } },
    validateResource: [
      validateResourceOfType(docker.Container, (c, args, report) => {
        const reason = unpinnedReason(c.image);
        if (reason) report(`Container "${c.name ?? args.name}" image "${c.image}" ${reason}. ${FIX}`);
      }),
      validateResourceOfType(docker.RemoteImage, (image, _args, report) => {
        const reason = unpinnedReason(image.name);
        if (reason) report(`RemoteImage "${image.name}" ${reason}. ${FIX}`);
      }),
      validateResourceOfType(docker.Image, (image, _args, report) => {
        const reason = unpinnedReason(image.imageName);
        if (reason) report(`Image "${image.imageName}" ${reason}. Tag built images with the commit SHA.`);
      }),
    ],
  },
};
