// Accessibility in a real browser: the main pages as Chromium's accessibility tree exposes them
// to a screen reader (every control named, one top-level heading, a main landmark, the page's
// language), the contrast of their text, and a sign-in done with the keyboard alone, its error
// announced.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { open } from '../support/browser.mjs';
import {
  PASSWORD,
  registerConfirmed,
  signInWithPassword,
  uniqueEmail,
  usePages,
  waitForPath,
  waitForText,
} from '../support/journey.mjs';

const mode = { javaScriptEnabled: true };

/** Roles a person acts on: each must have a name a screen reader can say. */
const CONTROLS = new Set([
  'button', 'link', 'textbox', 'searchbox', 'checkbox', 'radio', 'combobox', 'listbox',
  'switch', 'spinbutton', 'slider', 'menuitem', 'tab',
]);

/** The page's accessibility tree as Chromium builds it, without the nodes it ignores. */
async function accessibilityTree(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    return nodes.filter((node) => !node.ignored);
  } finally {
    await cdp.detach();
  }
}

const roleOf = (node) => node.role?.value;
const nameOf = (node) => String(node.name?.value ?? '').trim();
const levelOf = (node) => node.properties?.find((p) => p.name === 'level')?.value?.value;

/** What a screen-reader user would stumble on in `nodes`. */
function treeProblems(nodes) {
  const problems = [];
  for (const node of nodes) {
    const role = roleOf(node);
    if (CONTROLS.has(role) && nameOf(node) === '') problems.push(`a ${role} without a name`);
    if (role === 'image' && nameOf(node) === '') problems.push('an image without a text alternative');
  }
  const headings = nodes.filter((n) => roleOf(n) === 'heading' && levelOf(n) === 1);
  if (headings.length !== 1) problems.push(`${headings.length} top-level headings`);
  if (!nodes.some((n) => roleOf(n) === 'main')) problems.push('no main landmark');
  return problems;
}

/**
 * Text on the page whose contrast with what is behind it is below WCAG 2.2 AA (4.5:1, or 3:1
 * for large text), as the browser computed the colours.
 */
async function lowContrast(page) {
  return page.evaluate(() => {
    const parse = (css) => {
      const m = css.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top, bottom) => bottom.map((v, i) => v * (1 - top[3]) + top[i] * top[3]);
    const luminance = (rgb) => {
      const [r, g, b] = rgb.map((c) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const behind = (element) => {
      const layers = [];
      for (let e = element; e; e = e.parentElement) {
        const colour = parse(getComputedStyle(e).backgroundColor);
        if (colour && colour[3] > 0) {
          layers.push(colour);
          if (colour[3] >= 1) break;
        }
      }
      return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255]);
    };
    const found = [];
    for (const element of document.body.querySelectorAll('*')) {
      const ownText = [...element.childNodes]
        .filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent.trim())
        .join(' ')
        .trim();
      if (!ownText) continue;
      const style = getComputedStyle(element);
      const box = element.getBoundingClientRect();
      if (style.visibility !== 'visible' || box.width === 0 || box.height === 0) continue;
      if (element.closest('[disabled], [aria-hidden="true"]')) continue;
      const background = behind(element);
      const text = over(parse(style.color), background);
      const [light, dark] = [luminance(text), luminance(background)].sort((a, b) => b - a);
      const ratio = (light + 0.05) / (dark + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        found.push(`"${ownText.slice(0, 40)}" at ${ratio.toFixed(2)}:1`);
      }
    }
    return found;
  });
}

/** The focused element, as a test names it: its id, else its role and text. */
async function focused(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return 'body';
    return e.id ? `#${e.id}` : `${e.tagName.toLowerCase()}:${(e.textContent || '').trim()}`;
  });
}

/** Presses Tab until `target` has the focus; returns what got it on the way. */
async function tabTo(page, target, limit = 30) {
  const path = [];
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    path.push(now);
    if (now === target) return path;
  }
  assert.fail(`Tab never reached ${target}: ${path.join(' → ')}`);
}

describe('accessibility', () => {
  const { freshPage, checkPage } = usePages(mode);

  async function check(page, path) {
    await open(page, path, mode);
    assert.equal(new URL(page.url()).pathname, path.split('?')[0], `${path} was not shown`);
    const lang = await page.evaluate(() => document.documentElement.lang);
    assert.ok(lang, `${path} declares no language`);
    assert.deepEqual(treeProblems(await accessibilityTree(page)), [], `accessibility tree of ${path}`);
    assert.deepEqual(await lowContrast(page), [], `text contrast on ${path}`);
  }

  test('the main pages read well to a screen reader, and their text has contrast', async () => {
    const { page } = await freshPage();
    for (const path of ['/', '/signin', '/register', '/forgot-password']) await check(page, path);

    const email = uniqueEmail();
    await registerConfirmed(page, email, mode);
    await signInWithPassword(page, email, mode);
    for (const path of [
      '/profile',
      '/profile/activity',
      '/profile/consents',
      '/profile/data',
      '/profile/delete',
    ]) {
      await check(page, path);
    }
    checkPage(page);
  });

  test('a sign-in with the keyboard alone: focus in reading order, the error announced', async () => {
    const { page } = await freshPage();
    const email = uniqueEmail();
    await registerConfirmed(page, email, mode);

    await open(page, '/signin', mode);
    // The first stop skips the header; the fields come in the order they are read.
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'a:Skip to content');
    const path = await tabTo(page, '#email');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), '#password', `after the address: ${path.join(' → ')}`);

    // A wrong password: the error is announced (an alert) and the focus stays in the form.
    await page.keyboard.type('not my password at all');
    await page.keyboard.press('Enter');
    const alert = page.getByRole('alert');
    await waitForText(alert, /password/i);
    const announced = (await accessibilityTree(page)).filter((n) => roleOf(n) === 'alert');
    assert.ok(announced.length >= 1, 'no alert in the accessibility tree');
    assert.notEqual(await focused(page), 'body', 'the focus was lost');

    // The right one, entered and sent from the keyboard.
    await page.locator('#password').focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await waitForPath(page, '/profile');

    // Signing out is reachable by keyboard too.
    await tabTo(page, 'button:Sign out');
    await page.keyboard.press('Enter');
    await waitForPath(page, '/');
    await open(page, '/profile', mode);
    await waitForPath(page, '/signin');
    checkPage(page);
  });

  test('the checks find an unnamed control, a second heading and faint text', async () => {
    const { page } = await freshPage();
    await open(page, '/signin', mode);
    assert.deepEqual(treeProblems(await accessibilityTree(page)), []);
    assert.deepEqual(await lowContrast(page), []);
    await page.evaluate(() => {
      const main = document.querySelector('main');
      main.insertAdjacentHTML(
        'beforeend',
        '<button type="button"></button><h1>Again</h1><p id="faint">Faint words</p>',
      );
      // Through the CSSOM: the Content Security Policy refuses inline style attributes.
      document.getElementById('faint').style.color = '#bbb';
    });
    assert.deepEqual(treeProblems(await accessibilityTree(page)), [
      'a button without a name',
      '2 top-level headings',
    ]);
    const faint = await lowContrast(page);
    assert.equal(faint.length, 1);
    assert.match(faint[0], /^"Faint words" at 1\.\d\d:1$/);
  });
});
