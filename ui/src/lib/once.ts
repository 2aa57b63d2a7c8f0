/**
 * `read`, called once per key: later calls get the same promise. A read that fails is
 * forgotten, so the next call tries again. (The stores read kept pictures' and videos' data:
 * URLs this way.)
 */
export function readOnce<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    let p = cache.get(key);
    if (!p) {
      p = read(key);
      p.catch(() => cache.delete(key));
      cache.set(key, p);
    }
    return p;
  };
}
