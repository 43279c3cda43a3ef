/**
 * Checks an LMDB data file before lmdb-js maps it. LMDB trusts its file: a
 * page number past the end of a truncated file is a SIGBUS when touched, a
 * corrupt meta page a SIGSEGV, and either takes the whole process down
 * (every actor of a cluster shares it). So the file is read here first with
 * ordinary reads, which fail with an error instead, and anything LMDB would
 * trip over is a {@link StorageError} (SYNOD_STORE_CORRUPT) naming the file.
 *
 * The format (lmdb-js 3's LMDB, data version 2, 64-bit): every page starts
 * with a 24-byte header (page number u64, txnid u64, pad u16, flags u16,
 * lower u16, upper u16; an overflow page keeps its page count, u32, where
 * lower and upper are). Page 0 holds a meta record after the header: magic
 * 0xBEEFC0DE u32, version u32, address u64, map size u64, then two 48-byte
 * database records (free pages, main) — pad u32 (the page size, in the
 * first), flags u16, depth u16, branch, leaf and overflow page counts,
 * entries and the root page, u64 each — then the last page used and the
 * txnid, u64 each. With overlapping sync (lmdb-js's default) LMDB reads
 * three meta records, at offsets 0, half a page and one page, and uses the
 * one with the highest txnid; only the first is checked for the magic.
 *
 * What is checked: the file is long enough for the meta pages; the first
 * meta has the magic, the version and the meta flag; the meta LMDB will
 * use has the same page size; and every page reachable from its two roots
 * (branch, leaf and overflow pages, and sub-databases) lies inside the file,
 * names itself in its header and has node offsets within the page. The
 * last-page field alone is not enough: LMDB notes that the file may be
 * shorter than it when the last pages are free, so only reachable pages are
 * required to exist. Record contents are not checked here; every record
 * carries its own checksum (./record.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { fsReason } from './files.js';
import { StorageError } from './types.js';

/** LMDB's magic number, the first field of a meta record. */
export const MDB_MAGIC = 0xbeefc0de;
/** The LMDB data-file version this build's lmdb-js writes and reads. */
export const MDB_DATA_VERSION = 2;

const PAGE_HEADER = 24;
const META_SIZE = 176;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const P_INVALID = 0xffff_ffff_ffff_ffffn;

/** What {@link checkLmdbFile} found: no file, an empty one, or one that passed. */
export type LmdbFileState = 'missing' | 'empty' | 'ok';

interface Meta {
  readonly offset: number;
  readonly magic: number;
  readonly version: number;
  readonly pageSize: number;
  readonly roots: readonly bigint[];
  readonly txnid: bigint;
}

/**
 * Checks `file` (an LMDB data.mdb) as the module comment says. Returns
 * 'missing' or 'empty' for no file or a 0-byte one (the caller decides
 * whether that is allowed), 'ok' for a file LMDB can map safely; throws a
 * StorageError (SYNOD_STORE_CORRUPT) otherwise, or SYNOD_STORAGE_IO when
 * the file cannot be read. `who` names the owner in messages.
 */
export function checkLmdbFile(file: string, who: string): LmdbFileState {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new StorageError('SYNOD_STORAGE_IO', file, `cannot read ${file} (${who}): ${fsReason(err)}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return 'empty';
    new FileWalk(fd, file, size, who).check();
    return 'ok';
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError('SYNOD_STORAGE_IO', file, `cannot read ${file} (${who}): ${fsReason(err)}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/**
 * The bytes read from the start of the file in one read: the meta pages
 * (two pages of up to 64 KiB) and, in a small store, every other page too,
 * so that checking one actor's store is usually one read.
 */
const FIRST_READ = 128 * 1024;

class FileWalk {
  private pageSize = 0;
  private readonly seen = new Set<bigint>();
  /** The file's first bytes (up to FIRST_READ), as one read returned them. */
  private readonly head: Buffer;

  constructor(
    private readonly fd: number,
    private readonly file: string,
    private readonly size: number,
    private readonly who: string,
  ) {
    const head = Buffer.allocUnsafe(Math.min(size, FIRST_READ));
    let n = 0;
    // A short read is not an error here: whatever is missing is read again, and reported, below.
    while (n < head.length) {
      const got = readSync(fd, head, n, head.length - n, n);
      if (got === 0) break;
      n += got;
    }
    this.head = head.subarray(0, n);
  }

  private corrupt(detail: string): StorageError {
    return new StorageError(
      'SYNOD_STORE_CORRUPT',
      this.file,
      `${this.file} (${this.who}) is not a usable LMDB file: ${detail}. synod checked it before mapping it and will not start this actor on it; restore the file from a backup, or replace the actor (see "Storage faults" in docs/storage.md)`,
    );
  }

  private read(offset: number, length: number): Buffer {
    if (offset + length <= this.head.length) return this.head.subarray(offset, offset + length);
    const buf = Buffer.alloc(length);
    const n = readSync(this.fd, buf, 0, length, offset);
    if (n !== length) throw this.corrupt(`it ends at byte ${this.size}, inside what should be ${length} bytes at offset ${offset}`);
    return buf;
  }

  private meta(offset: number): Meta {
    const b = this.read(offset, META_SIZE);
    const m = PAGE_HEADER;
    return {
      offset,
      magic: b.readUInt32LE(m),
      version: b.readUInt32LE(m + 4) & 0xffff,
      pageSize: b.readUInt32LE(m + 24),
      roots: [b.readBigUInt64LE(m + 24 + 40), b.readBigUInt64LE(m + 24 + 48 + 40)],
      txnid: b.readBigUInt64LE(m + 24 + 96 + 8),
    };
  }

  check(): void {
    if (this.size < PAGE_HEADER + META_SIZE) throw this.corrupt(`it is ${this.size} bytes long, shorter than one meta page (it was truncated)`);
    const head = this.read(0, PAGE_HEADER);
    if ((head.readUInt16LE(18) & P_META) === 0) throw this.corrupt('page 0 is not a meta page');
    const first = this.meta(0);
    if (first.magic !== MDB_MAGIC) throw this.corrupt(`the meta page has magic 0x${first.magic.toString(16)}, not 0x${MDB_MAGIC.toString(16)}`);
    if (first.version !== MDB_DATA_VERSION) throw this.corrupt(`the meta page says data version ${first.version}; this build reads version ${MDB_DATA_VERSION}`);
    const ps = first.pageSize;
    if (ps < 512 || ps > 65536 || (ps & (ps - 1)) !== 0) throw this.corrupt(`the meta page gives a page size of ${ps}, not a power of two from 512 to 65536`);
    this.pageSize = ps;
    if (this.size < 2 * ps) throw this.corrupt(`it is ${this.size} bytes long, shorter than its two ${ps}-byte meta pages (it was truncated)`);
    // The meta LMDB will use: the highest txnid of the three it reads (the first wins a tie).
    let use = first;
    for (const offset of [ps / 2, ps]) {
      const m = this.meta(offset);
      if (m.txnid > use.txnid) use = m;
    }
    if (use.pageSize !== ps) throw this.corrupt(`the newest meta record (at byte ${use.offset}) gives a page size of ${use.pageSize}, the first ${ps}`);
    for (const root of use.roots) if (root !== P_INVALID) this.walk(root, 0);
  }

  /** Checks page `pgno` and everything below it. */
  private walk(pgno: bigint, depth: number): void {
    if (depth > 64) throw this.corrupt(`the tree is more than 64 pages deep at page ${pgno} (a cycle)`);
    if (this.seen.has(pgno)) throw this.corrupt(`page ${pgno} is reachable twice`);
    this.seen.add(pgno);
    const page = this.page(pgno);
    const flags = page.readUInt16LE(18) & 0x7f;
    const isBranch = (flags & P_BRANCH) !== 0;
    if (!isBranch && (flags & P_LEAF) === 0) throw this.corrupt(`page ${pgno} should be a branch or leaf page but has flags 0x${flags.toString(16)}`);
    const lower = page.readUInt16LE(20);
    const upper = page.readUInt16LE(22);
    if (lower > upper || upper > this.pageSize - PAGE_HEADER) throw this.corrupt(`page ${pgno} has free-space bounds ${lower}..${upper} outside the page`);
    const keys = lower >> 1;
    for (let i = 0; i < keys; i++) {
      const at = page.readUInt16LE(PAGE_HEADER + 2 * i) + PAGE_HEADER;
      if (at < PAGE_HEADER + upper || at + 8 > this.pageSize) throw this.corrupt(`node ${i} of page ${pgno} starts outside the page`);
      const lo = page.readUInt16LE(at);
      const hi = page.readUInt16LE(at + 2);
      const nodeFlags = page.readUInt16LE(at + 4);
      const ksize = page.readUInt16LE(at + 6);
      const data = at + 8 + ksize;
      if (isBranch) {
        if (data > this.pageSize) throw this.corrupt(`node ${i} of page ${pgno} runs past the page`);
        this.walk(BigInt(lo) | (BigInt(hi) << 16n) | (BigInt(nodeFlags) << 32n), depth + 1);
        continue;
      }
      if ((nodeFlags & F_BIGDATA) !== 0) {
        if (data + 8 > this.pageSize) throw this.corrupt(`node ${i} of page ${pgno} runs past the page`);
        this.overflow(page.readBigUInt64LE(data), lo | (hi << 16));
      } else if ((nodeFlags & F_SUBDATA) !== 0) {
        if (data + 48 > this.pageSize) throw this.corrupt(`node ${i} of page ${pgno} runs past the page`);
        const root = page.readBigUInt64LE(data + 40);
        if (root !== P_INVALID) this.walk(root, depth + 1);
      } else if (data + (lo | (hi << 16)) > this.pageSize) {
        throw this.corrupt(`node ${i} of page ${pgno} runs past the page`);
      }
    }
  }

  /** Checks an overflow run holding `bytes` bytes of one value. */
  private overflow(pgno: bigint, bytes: number): void {
    const page = this.page(pgno);
    if ((page.readUInt16LE(18) & P_OVERFLOW) === 0) throw this.corrupt(`page ${pgno} should be an overflow page`);
    const pages = page.readUInt32LE(20);
    if (pages < 1 || pages * this.pageSize < bytes + PAGE_HEADER) throw this.corrupt(`overflow page ${pgno} spans ${pages} pages, too few for its ${bytes} bytes`);
    const end = (pgno + BigInt(pages)) * BigInt(this.pageSize);
    if (end > BigInt(this.size)) throw this.corrupt(`overflow pages ${pgno}..${pgno + BigInt(pages) - 1n} run past the end of the file (${this.size} bytes; it was truncated)`);
  }

  private page(pgno: bigint): Buffer {
    const offset = pgno * BigInt(this.pageSize);
    if (pgno < 2n || offset + BigInt(this.pageSize) > BigInt(this.size)) {
      throw this.corrupt(`page ${pgno} is referenced but lies ${pgno < 2n ? 'among the meta pages' : `past the end of the file (${this.size} bytes, ${Math.floor(this.size / this.pageSize)} pages): the file was truncated or the page reference is corrupt`}`);
    }
    const page = this.read(Number(offset), this.pageSize);
    const named = page.readBigUInt64LE(0);
    if (named !== pgno) throw this.corrupt(`page ${pgno} says it is page ${named}`);
    return page;
  }
}
