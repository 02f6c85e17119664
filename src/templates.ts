import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { PACKAGE_ROOT } from "./meta.js";
import { render } from "./render.js";

/**
 * The files of templates/<feature>/. Here they are read and compiled on first
 * use; the published bundle replaces this module with templates precompiled at
 * build time (scripts/build.mjs), so `npm create` parses no template at run time.
 */
export interface Template {
  /** Output path, POSIX, relative to the project root. */
  path: string;
  render(context: object): string;
}

/** npm strips dotfiles from packages, so templates carry these names instead (as create-vite does). */
export const RENAMES: Record<string, string> = {
  _gitignore: ".gitignore",
  _dockerignore: ".dockerignore",
  "_env.example": ".env.example",
  _github: ".github",
};

/** What Python tools leave behind when run inside templates/: never part of a project. */
const TOOL_CACHES = new Set(["__pycache__", ".ruff_cache", ".pytest_cache", ".mypy_cache"]);

/** Every file of one feature folder: its source path, output path, and whether it is a template. */
export function listTemplateFiles(featureDir: string): { source: string; path: string; rendered: boolean }[] {
  const files: { source: string; path: string; rendered: boolean }[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(featureDir, rel)).sort()) {
      if (TOOL_CACHES.has(entry)) continue;
      const relPath = rel ? `${rel}/${entry}` : entry;
      if (statSync(path.join(featureDir, relPath)).isDirectory()) {
        walk(relPath);
        continue;
      }
      const outPath = relPath
        .split("/")
        .map((part) => part.replace(/\.hbs$/, ""))
        .map((part) => RENAMES[part] ?? part)
        .join("/");
      files.push({ source: relPath, path: outPath, rendered: entry.endsWith(".hbs") });
    }
  };
  walk("");
  return files;
}

const cache = new Map<string, Template[]>();

export function loadTemplates(featureId: string): Template[] {
  const cached = cache.get(featureId);
  if (cached) return cached;
  const dir = path.join(PACKAGE_ROOT, "templates", featureId);
  // A feature may have no folder: it then adds files through `files` and `contributes` only.
  const templates = (existsSync(dir) ? listTemplateFiles(dir) : []).map(({ source, path: outPath, rendered }): Template => {
    const text = readFileSync(path.join(dir, source), "utf8");
    return { path: outPath, render: rendered ? (context) => render(text, context, `${featureId}/${source}`) : () => text };
  });
  cache.set(featureId, templates);
  return templates;
}
