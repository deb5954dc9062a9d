import { makeSampleDisk, type SampleDiskOptions } from '../../src/sample/make-sample-disk.ts';

/** `node --import=tsx make-sample-disk-cli.ts '<options json>'`: lets a test run the generator as another user. */
const options = JSON.parse(process.argv[2] ?? '{}') as SampleDiskOptions;
const disk = await makeSampleDisk(options);
process.stdout.write(JSON.stringify(disk));
