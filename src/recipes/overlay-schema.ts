import { z } from 'zod';
import { checkedString } from '../lab/checked-string.ts';
import { checkNotEmpty } from '../lab/field-checks.ts';

const OCTAL_MODE = /^0?[0-7]{3,4}$/;

/** Quoted on purpose: YAML 1.2 reads an unquoted 0600 as the decimal number 600. */
const fileMode = z.union([z.string(), z.number()]).transform((value, context) => {
  if (typeof value === 'string' && OCTAL_MODE.test(value)) return parseInt(value, 8);
  context.addIssue({
    code: 'custom',
    message:
      typeof value === 'number'
        ? 'must be a quoted octal string (YAML reads an unquoted 0600 as the number 600)'
        : 'is not an octal file mode',
    input: value,
    params: { fix: 'write e.g. mode: "0644", or "0755" for programs' },
  });
  return z.NEVER;
});

const ownerId = z.int().min(0).max(4294967294);

export const fileAttributesSchema = z.strictObject({
  mode: fileMode.optional(),
  uid: ownerId.optional(),
  gid: ownerId.optional(),
});

/** `overlays/<name>/overlay.yaml`: attributes of rootfs files (by target path) and symlinks to create. */
export const overlayFileSchema = z.strictObject({
  rootfs: z.record(z.string(), fileAttributesSchema).default({}),
  symlinks: z.record(z.string(), checkedString(checkNotEmpty)).default({}),
});

export type OverlayFileInput = z.output<typeof overlayFileSchema>;
