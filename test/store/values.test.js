import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSmall, pattern, equalBytes } from '../helpers/store.js';

// Small values come back as views into a shared slab (src/store/slab.ts): each must still be
// the caller's own bytes, independent of every other value returned and of what is stored.
test('values returned by get are independent: writing into one changes no other value nor the store', async () => {
  const mc = await openSmall();
  const sizes = [1, 7, 100, 4096, 8191, 8192, 8193, 65536];
  const got = [];
  for (let round = 0; round < 40; round++) {
    for (const [i, size] of sizes.entries()) {
      const key = `v-${round}-${i}`;
      await mc.put(key, pattern(round * 31 + i, size));
      got.push([key, size, round * 31 + i, await mc.get(key)]);
    }
  }
  for (const [, , , v] of got) v.fill(0xee);       // scribble over every returned value
  for (const [key, size, seed] of got) {
    const again = await mc.get(key);
    assert.ok(equalBytes(again, pattern(seed, size)), `${key} changed in the store`);
  }
  // views never overlap: fill each with its own byte, then check each still holds it
  const fresh = [];
  for (const [key] of got) fresh.push(await mc.get(key));
  fresh.forEach((v, i) => v.fill(i & 0xff));
  fresh.forEach((v, i) => assert.ok(v.every((b) => b === (i & 0xff)), `value ${i} was overwritten by another`));
  await mc.close();
});

test.run();
