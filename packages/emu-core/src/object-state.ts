/**
 * Capture the state of a graph of objects and put it back in place.
 *
 * `captureState` walks everything reachable from its roots (own data
 * properties of objects and class instances, array elements, Map and Set
 * members, typed-array contents) and keeps, for each object, a flat copy of
 * what it holds. `restoreState` writes those copies back into the same
 * objects, so every reference held elsewhere (a closure's captured array,
 * a local in a run loop, a Map entry pointing at a shadow table) sees the
 * restored state, and objects made after the capture simply fall out of
 * reach. Nothing is cloned and re-linked, which is why a class added later
 * with plain fields needs no checkpoint code of its own.
 *
 * Functions are kept as references and never entered. Objects in `skip` are
 * kept as references and not entered either: they belong to another layer
 * that checkpoints them itself (the hart's RAM, a hypervisor below its
 * machine). State the walk cannot see — WeakMaps, Promises, properties
 * defined by getters — is refused with an error naming its path, so it never
 * goes silently unrestored.
 *
 * Two things it cannot know of: ECMAScript private fields (`#x`, invisible
 * to reflection; the machine's classes use TypeScript `private`, which is a
 * plain property) and properties added to an object after the capture
 * (restore leaves them; declare fields in the class so they exist from the
 * start).
 *
 * Restore allocates nothing beyond what Map and Set insertion needs.
 */

const OBJECT = 0;
const TYPED = 1;
const ARRAY = 2;
const MAP = 3;
const SET = 4;

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** The captured state of an object graph (opaque; give it to restoreState). */
export interface ObjectState {
  readonly objects: readonly object[];
  readonly kinds: Uint8Array;
  /** Per object: its property names (OBJECT), else undefined. */
  readonly keys: readonly (readonly string[] | undefined)[];
  /** Per object: property values, array elements, Map keys and values interleaved, Set members, or a typed-array copy. */
  readonly values: readonly (readonly unknown[] | TypedArray)[];
}

export class StateCaptureError extends Error {}

/** Capture the state of everything reachable from `roots`, not entering the objects in `skip`. */
export function captureState(roots: readonly object[], skip: ReadonlySet<object> = new Set()): ObjectState {
  const objects: object[] = [];
  const kinds: number[] = [];
  const keys: (string[] | undefined)[] = [];
  const values: (unknown[] | TypedArray)[] = [];
  const seen = new Set<object>();
  const stack: { o: object; path: string }[] = [];
  const visit = (v: unknown, path: string): void => {
    if (typeof v !== "object" || v === null || seen.has(v) || skip.has(v)) return;
    seen.add(v);
    stack.push({ o: v, path });
  };
  for (let i = 0; i < roots.length; i++) visit(roots[i], `root${i}`);
  while (stack.length > 0) {
    const { o, path } = stack.pop() as { o: object; path: string };
    objects.push(o);
    if (ArrayBuffer.isView(o)) {
      if (o instanceof DataView) throw new StateCaptureError(`cannot checkpoint a DataView at ${path}`);
      kinds.push(TYPED);
      keys.push(undefined);
      values.push((o as TypedArray).slice());
    } else if (Array.isArray(o)) {
      kinds.push(ARRAY);
      keys.push(undefined);
      values.push(o.slice());
      for (let i = 0; i < o.length; i++) visit(o[i], `${path}[${i}]`);
    } else if (o instanceof Map) {
      kinds.push(MAP);
      keys.push(undefined);
      const flat: unknown[] = [];
      for (const [k, v] of o) {
        flat.push(k, v);
        visit(k, `${path}.key`);
        visit(v, `${path}.get(${String(k)})`);
      }
      values.push(flat);
    } else if (o instanceof Set) {
      kinds.push(SET);
      keys.push(undefined);
      values.push([...o]);
      for (const v of o) visit(v, `${path}.member`);
    } else {
      refuseOpaque(o, path);
      kinds.push(OBJECT);
      const names: string[] = [];
      const vals: unknown[] = [];
      for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(o))) {
        if (!("value" in d))
          throw new StateCaptureError(`cannot checkpoint the accessor property ${path}.${k}`);
        if (d.writable) {
          names.push(k);
          vals.push(d.value);
        }
        visit(d.value, `${path}.${k}`);
      }
      keys.push(names);
      values.push(vals);
    }
  }
  return { objects, kinds: Uint8Array.from(kinds), keys, values };
}

function refuseOpaque(o: object, path: string): void {
  if (o instanceof WeakMap || o instanceof WeakSet || o instanceof Promise || o instanceof ArrayBuffer) {
    throw new StateCaptureError(`cannot checkpoint the ${o.constructor.name} at ${path}`);
  }
}

/** Put every captured object back as it was at capture. */
export function restoreState(s: ObjectState): void {
  const { objects, kinds, keys, values } = s;
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i];
    switch (kinds[i]) {
      case OBJECT: {
        const names = keys[i] as readonly string[];
        const vals = values[i] as readonly unknown[];
        const target = o as Record<string, unknown>;
        for (let k = 0; k < names.length; k++) target[names[k]] = vals[k];
        break;
      }
      case TYPED:
        (o as TypedArray).set(values[i] as never);
        break;
      case ARRAY: {
        const a = o as unknown[];
        const saved = values[i] as readonly unknown[];
        a.length = saved.length;
        for (let k = 0; k < saved.length; k++) a[k] = saved[k];
        break;
      }
      case MAP: {
        const m = o as Map<unknown, unknown>;
        const flat = values[i] as readonly unknown[];
        m.clear();
        for (let k = 0; k < flat.length; k += 2) m.set(flat[k], flat[k + 1]);
        break;
      }
      default: {
        const set = o as Set<unknown>;
        const members = values[i] as readonly unknown[];
        set.clear();
        for (let k = 0; k < members.length; k++) set.add(members[k]);
      }
    }
  }
}
