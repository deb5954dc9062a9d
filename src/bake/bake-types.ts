import type { FirstBootFormat } from '../firstboot/detect-first-boot.ts';
import type { ClonezillaImage, PartitionImage } from '../clonezilla/read-image.ts';
import type { ManifestInputs } from '../image/manifest.ts';

/** What the bake learns from the clean image before planning (read once, shared by every host). */
export interface CleanImageFacts {
  readonly image: ClonezillaImage;
  /** sha256 over the names and contents of every file of the clean image. */
  readonly id: string;
  readonly fileDigests: ReadonlyMap<string, string>;
  readonly boot: PartitionImage;
  readonly root: PartitionImage;
  readonly bootFiles: BootFiles;
}

export interface BootFiles {
  readonly format: FirstBootFormat;
  readonly rootFiles: readonly string[];
  readonly cmdline: string;
  readonly configTxt: string;
  readonly firstrun?: string;
  readonly userData?: string;
  readonly metaData?: string;
}

export interface FileEdit {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Why the file changes: shown by --dry-run. */
  readonly reason: string;
}

export interface SymlinkEdit {
  readonly path: string;
  readonly linkTo: string;
}

export interface RootVariant {
  /** Hosts whose root edits are equal share one re-cloned root image. */
  readonly key: string;
  readonly files: readonly FileEdit[];
  readonly symlinks: readonly SymlinkEdit[];
}

export interface HostPlan {
  readonly host: string;
  readonly recipe: string;
  /** Changes whenever anything that ends up in this host's image changes. */
  readonly inputKey: string;
  readonly imageVersion: string;
  readonly inputs: ManifestInputs;
  readonly bootEdits: readonly FileEdit[];
  readonly rootVariant: RootVariant | undefined;
}
