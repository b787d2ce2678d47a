// nvme-cli 2.3 parity where users script against it: the smart-log JSON keys and text labels,
// id-ctrl/id-ns -H decoding, and `nvme list` without -n (every subsystem the discovery log
// names) with aligned columns. Two subsystems are served on 127.0.0.1 (random ports).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { nvmeCli, tcpMachine, type TcpMachine } from './support/tcp-machine.js';

/**
 * The keys nvme-cli 2.3 prints for `nvme smart-log -o json`, in its order (json_smart_log in
 * nvme-print.c at tag v2.3). `temperature_sensor_N` follow critical_comp_time only for non-zero
 * sensors; nvmemu's sensors read 0, so none appear.
 */
const NVME_CLI_23_SMART_KEYS = [
  'critical_warning',
  'temperature',
  'avail_spare',
  'spare_thresh',
  'percent_used',
  'endurance_grp_critical_warning_summary',
  'data_units_read',
  'data_units_written',
  'host_read_commands',
  'host_write_commands',
  'controller_busy_time',
  'power_cycles',
  'power_on_hours',
  'unsafe_shutdowns',
  'media_errors',
  'num_err_log_entries',
  'warning_temp_time',
  'critical_comp_time',
  'thm_temp1_trans_count',
  'thm_temp2_trans_count',
  'thm_temp1_total_time',
  'thm_temp2_total_time',
];

/** The labels of nvme-cli 2.3's smart-log text (nvme_show_smart_log), in order. */
const NVME_CLI_23_SMART_LABELS = [
  'critical_warning\t\t\t: ',
  'temperature\t\t\t\t: ',
  'available_spare\t\t\t\t: ',
  'available_spare_threshold\t\t: ',
  'percentage_used\t\t\t\t: ',
  'endurance group critical warning summary: ',
  'Data Units Read\t\t\t\t: ',
  'Data Units Written\t\t\t: ',
  'host_read_commands\t\t\t: ',
  'host_write_commands\t\t\t: ',
  'controller_busy_time\t\t\t: ',
  'power_cycles\t\t\t\t: ',
  'power_on_hours\t\t\t\t: ',
  'unsafe_shutdowns\t\t\t: ',
  'media_errors\t\t\t\t: ',
  'num_err_log_entries\t\t\t: ',
  'Warning Temperature Time\t\t: ',
  'Critical Composite Temperature Time\t: ',
  'Thermal Management T1 Trans Count\t: ',
  'Thermal Management T2 Trans Count\t: ',
  'Thermal Management T1 Total Time\t: ',
  'Thermal Management T2 Total Time\t: ',
];

describe('nvme-cli 2.3 parity', () => {
  let m: TcpMachine;
  const A = 'nqn.2019-08.org.qemu:parity-a';
  const target = (nqn = A) => ['-a', '127.0.0.1', '--trsvcid', String(m.port), '-n', nqn];

  before(async () => {
    m = await tcpMachine(
      'parity',
      { 'a.img': 4 << 20, 'b.img': 2 << 20, 'c.img': 1 << 20 },
      (d) => [
        '-drive',
        `file=${join(d, 'a.img')},if=none,id=a`,
        '-drive',
        `file=${join(d, 'b.img')},if=none,id=b`,
        '-drive',
        `file=${join(d, 'c.img')},if=none,id=c`,
        '-device',
        'nvme-subsys,id=sa,nqn=parity-a',
        '-device',
        'nvme,id=ca,serial=PARITY-A,subsys=sa',
        '-device',
        'nvme-ns,drive=a,nsid=1',
        '-device',
        'nvme-ns,drive=b,nsid=2,logical_block_size=4096,physical_block_size=4096',
        '-device',
        'nvme-subsys,id=sb,nqn=parity-b',
        '-device',
        'nvme,id=cb,serial=PARITY-B,subsys=sb',
        '-device',
        'nvme-ns,drive=c,nsid=1',
      ],
      0,
    );
  });
  after(() => m.close());

  it('smart-log -o json has every key nvme-cli 2.3 prints, in its order', async () => {
    const r = await nvmeCli(['smart-log', ...target(), '-o', 'json']);
    assert.equal(r.code, 0, r.err);
    const obj = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(obj), NVME_CLI_23_SMART_KEYS);
    assert.equal(obj.thm_temp1_trans_count, 0);
    assert.equal(obj.power_cycles, 0);
  });

  it('smart-log -H -o json decodes the critical warning as nvme-cli does', async () => {
    const r = await nvmeCli(['smart-log', ...target(), '-H', '-o', 'json']);
    const obj = JSON.parse(r.out) as { critical_warning: Record<string, number> };
    assert.deepEqual(Object.keys(obj.critical_warning), [
      'value',
      'available_spare',
      'temp_threshold',
      'reliability_degraded',
      'ro',
      'vmbu_failed',
      'pmr_ro',
    ]);
  });

  it("smart-log's text has nvme-cli's labels in order", async () => {
    const r = await nvmeCli(['smart-log', ...target()]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(lines[0], `Smart Log for NVME device:${A} namespace-id:ffffffff`);
    const labels = lines.slice(1).filter((l) => l !== '');
    assert.equal(labels.length, NVME_CLI_23_SMART_LABELS.length);
    labels.forEach((l, i) => assert.ok(l.startsWith(NVME_CLI_23_SMART_LABELS[i]!), l));
    assert.match(r.out, /^temperature\t\t\t\t: \d+°C \(\d+ Kelvin\)$/m);
    assert.match(r.out, /^Data Units Read\t\t\t\t: [\d,]+ \(\d+\.\d\d [kMGT]?B\)$/m);
    assert.match(r.out, /^power_cycles\t\t\t\t: 0$/m);
  });

  it('id-ctrl -H decodes bit fields under their field', async () => {
    const plain = await nvmeCli(['id-ctrl', ...target()]);
    assert.match(plain.out, /^NVME Identify Controller:\nvid {7}: 0x1b36\n/);
    assert.doesNotMatch(plain.out, /\[\d+:\d+\]/);
    const r = await nvmeCli(['id-ctrl', ...target(), '-H']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^oacs {6}: 0x[0-9a-f]+\n(  \[\d+:\d+\] : 0x[0-9a-f]+\t.+\n)+\n/m);
    assert.match(r.out, /^ {2}\[3:3\] : 0x1\tNS Management and Attachment Supported$/m);
    assert.match(r.out, /^ {2}\[0:0\] : 0x1\tVolatile Write Cache Present$/m);
    assert.match(r.out, /^ {2}\[7:4\] : 0x6\tMax SQ Entry Size \(64\)$/m);
    assert.match(r.out, /^wctemp {4}: 343\n {2}\[15:0\] : 0x157\t70°C \(343 Kelvin\)\tWarning/m);
    assert.match(r.out, /^subnqn {4}: nqn\.2019-08\.org\.qemu:parity-a$/m);
  });

  it('id-ns -H decodes bit fields and the LBA formats', async () => {
    const r = await nvmeCli(['id-ns', ...target(), '--namespace-id', '2', '-H']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NVME Identify Namespace 2:\nnsze {4}: 0x200\n/);
    assert.match(r.out, /^ {2}\[0:0\] : 0x0\tThin Provisioning Not Supported$/m);
    assert.match(
      r.out,
      /^LBA Format {2}\d : Metadata Size: 0 {3}bytes - Data Size: 4096 bytes - Relative Performance: 0x0 Best \(in use\)$/m,
    );
    const plain = await nvmeCli(['id-ns', ...target(), '--namespace-id', '1']);
    assert.match(plain.out, /^lbaf {2}0 : ms:0 {3}lbads:9 {2}rp:0x0 \(in use\)$/m);
  });

  it('list without -n lists every subsystem the discovery log names, in aligned columns', async () => {
    const disc = m.svc.target.discoveryPort!.port;
    const r = await nvmeCli(['list', '-a', '127.0.0.1', '-s', String(disc)]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0]!, /^Node +Generic +SN +Model +Namespace +Usage +Format +FW Rev$/);
    const rows = lines.slice(2);
    assert.equal(rows.length, 3);
    assert.deepEqual(
      rows.map((l) => /(PARITY-[AB])/.exec(l)?.[1]),
      ['PARITY-A', 'PARITY-A', 'PARITY-B'],
    );
    // Every column starts where its header does.
    const starts = [...lines[1]!.matchAll(/-+/g)].map((x) => x.index);
    for (const row of rows) {
      for (const s of starts.slice(1)) assert.equal(row[s - 1], ' ', `${row} @${s}`);
    }
    assert.match(rows[1]!, / 2 +\S.* 4 KiB \+ {2}0 B /);
    const json = await nvmeCli(['list', '-a', '127.0.0.1', '-s', String(disc), '-o', 'json']);
    const devices = (JSON.parse(json.out) as { Devices: { SectorSize: number }[] }).Devices;
    assert.deepEqual(
      devices.map((d) => d.SectorSize),
      [512, 4096, 512],
    );
  });
});
