import i18next, { type i18n as I18n, type TOptions } from 'i18next';
import type { Request } from 'express';
import { en } from './en';
import { zhCN } from './zh-CN';

export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];
export const LANG_COOKIE = 'afrc_lang';

export const RESOURCES: Record<Language, typeof en> = { en, 'zh-CN': zhCN };

let instance: I18n | undefined;

/** One initialised instance per process; resources are bundled, so init is synchronous. */
export function i18n(): I18n {
  if (!instance) {
    instance = i18next.createInstance();
    void instance.init({
      resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
      lng: 'en',
      fallbackLng: 'en',
      supportedLngs: [...LANGUAGES],
      initAsync: false,
      returnNull: false,
      // Handlebars escapes whatever a helper returns; escaping here too would show "&amp;lt;".
      interpolation: { escapeValue: false },
    });
  }
  return instance;
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The cookie the language switch sets wins; otherwise the browser's Accept-Language; otherwise English. */
export function pickLanguage(req: Request): Language {
  const chosen: unknown = req.cookies?.[LANG_COOKIE];
  if (isLanguage(chosen)) return chosen;
  const accepted = req.acceptsLanguages('en', 'zh-CN', 'zh', 'zh-Hans', 'zh-SG');
  if (typeof accepted === 'string' && accepted.toLowerCase().startsWith('zh')) return 'zh-CN';
  return 'en';
}

export type Translate = (key: string, options?: TOptions) => string;

export function translator(lang: Language): Translate {
  const t = i18n().getFixedT(lang);
  return (key, options) => String(t(key, options ?? {}));
}

/** Flattened dotted keys of a resource tree; used to check both languages carry every string. */
export function keysOf(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keysOf(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}
