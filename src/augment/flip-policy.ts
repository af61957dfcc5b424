// Which data sets may be flipped left-right in their weak view (a property of the data: digits never, natural images and clothes yes).

/** Horizontal flips by data set name: a mirrored digit is another symbol (or none); clothes and CIFAR-10 objects stay what they are. */
export const HORIZONTAL_FLIP: Readonly<Record<string, boolean>> = Object.freeze({ mnist: false, 'fashion-mnist': true, cifar10: true });

/** Whether the weak view of `dataset` may flip; an unknown name is an error (say it explicitly rather than guess). */
export function allowsHorizontalFlip(dataset: string): boolean {
  if (!Object.hasOwn(HORIZONTAL_FLIP, dataset)) {
    throw new Error(`no horizontal-flip policy for data set '${dataset}' (known: ${Object.keys(HORIZONTAL_FLIP).join(', ')})`);
  }
  return HORIZONTAL_FLIP[dataset];
}
