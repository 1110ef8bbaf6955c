import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fromProjectRoot } from '../../server/paths';

/**
 * The public samples of the standards AFRC speaks live beside the repository, in
 * ../shared/corpora (see SOURCES.md there). Tests read them in place; nothing is copied in.
 */
export const CORPORA = path.resolve(fromProjectRoot(), '..', 'shared', 'corpora');

export const corpusPath = (...segments: string[]): string => path.join(CORPORA, ...segments);

export const readCorpus = (...segments: string[]): string => readFileSync(corpusPath(...segments), 'utf8');

export const readCorpusJson = <T = unknown>(...segments: string[]): T => JSON.parse(readCorpus(...segments)) as T;

/** The files of a corpus folder (not recursive), sorted, as full paths. */
export function corpusFiles(folder: string, filter: (name: string) => boolean = () => true): string[] {
  return readdirSync(corpusPath(folder)).filter(filter).sort().map((name) => corpusPath(folder, name));
}
