/** The smart plugs pi-lab drives: TP-Link Kasa (local protocol), Shelly Gen2+ (RPC), Tasmota. */
export type PlugDriverName = 'kasa' | 'shelly' | 'tasmota';

export const PLUG_DRIVER_NAMES: readonly PlugDriverName[] = ['kasa', 'shelly', 'tasmota'];
