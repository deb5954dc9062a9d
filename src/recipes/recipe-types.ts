export interface Recipe {
  readonly name: string;
  /** Absolute path of `recipes/<name>.yaml`. */
  readonly file: string;
  readonly description: string;
  /** Overlay names, applied in this order: a later overlay's file replaces an earlier one's at the same path. */
  readonly overlays: readonly string[];
  /** Lines that must apply to every board, i.e. end up under `[all]` in config.txt. */
  readonly configTxt: readonly string[];
  /** sha256 hex of the recipe file bytes. */
  readonly digest: string;
}

/** `boot` is the FAT boot partition (mounted at /boot/firmware), `rootfs` the ext4 root file system. */
export type Target = 'boot' | 'rootfs';

export interface OverlayEntry {
  readonly target: Target;
  /** Absolute inside the target, e.g. /etc/dnsmasq.d/lab.conf. */
  readonly path: string;
  /** Absolute path of the source file in overlays/. */
  readonly source: string;
  /** The source ends in .mustache; `path` has it stripped. */
  readonly template: boolean;
  /** The template text, for templates. */
  readonly text: string | undefined;
  readonly bytes: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface OverlaySymlink {
  readonly target: 'rootfs';
  readonly path: string;
  readonly linkTo: string;
}

export interface Overlay {
  readonly name: string;
  /** Absolute path of `overlays/<name>`. */
  readonly dir: string;
  /** Sorted by target, then path. */
  readonly entries: readonly OverlayEntry[];
  /** Sorted by path. */
  readonly symlinks: readonly OverlaySymlink[];
  /** sha256 hex over every entry's path, mode, owner and content, the symlinks and the attributes file. */
  readonly digest: string;
}
