import { z } from "zod";
import { IdentityError } from "../errors.js";
import type { InstanceIdentity } from "./identity-verifier.js";

// The fields mayfly relies on; the document has more, which are ignored.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-identity-documents.html
const documentSchema = z.object({
  accountId: z.string().regex(/^\d{12}$/),
  region: z.string().regex(/^[a-z]{2,}(-[a-z]+)+-\d+$/),
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/),
  pendingTime: z.iso.datetime({ offset: true }),
  availabilityZone: z.string().optional(),
  instanceType: z.string().optional(),
  imageId: z.string().optional(),
  architecture: z.string().optional(),
});

/** The identity a verified document states; call only on the exact signed text. */
export function parseIdentityDocument(document: string): InstanceIdentity {
  let json: unknown;
  try {
    json = JSON.parse(document);
  } catch (error) {
    throw new IdentityError("bad-document", "the signed document is not JSON", { cause: error });
  }
  const parsed = documentSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".")))];
    throw new IdentityError(
      "bad-document",
      `the signed document is not an instance identity document (${fields.join(", ")})`,
    );
  }
  const { pendingTime, ...rest } = parsed.data;
  const identity: InstanceIdentity = { ...rest, pendingTime: new Date(pendingTime) };
  return identity;
}
