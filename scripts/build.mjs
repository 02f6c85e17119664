// Bundles src/ and its runtime libraries into dist/, so `npm create`
// installs a single package with no dependencies (as create-vite does).
// dist/index.js is the entry; what a default run never calls (prompts, install,
// deploy, --help) is in chunks beside it that src/cli.ts imports when needed.
// Templates are precompiled here: the bundle carries the Handlebars runtime
// only and parses no template when a user runs it.
import { build } from "esbuild";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import Handlebars from "handlebars";

const root = path.resolve(import.meta.dirname, "..");

/** The templates/ folder as a module: every file precompiled, with the loadTemplates() of src/templates.ts. */
async function precompiledTemplatesModule() {
  // The listing rules live in src/templates.ts and the compile options in src/render.ts;
  // bundle them to read them. One folder below the root, like src/ and dist/, so the
  // package.json lookup of the bundled code works.
  const listingModule = path.join(root, ".cache/templates-listing.mjs");
  await build({
    stdin: {
      contents: 'export { listTemplateFiles } from "./src/templates.ts"; export { COMPILE_OPTIONS } from "./src/render.ts";',
      resolveDir: root,
      loader: "ts",
    },
    outfile: listingModule,
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "warning",
  });
  const { listTemplateFiles, COMPILE_OPTIONS } = await import(pathToFileURL(listingModule).href);

  const templatesDir = path.join(root, "templates");
  const entries = readdirSync(templatesDir)
    .sort()
    .map((feature) => {
      const dir = path.join(templatesDir, feature);
      const files = listTemplateFiles(dir).map(({ source, path: outPath, rendered }) => {
        const text = readFileSync(path.join(dir, source), "utf8");
        const body = rendered ? Handlebars.precompile(text, COMPILE_OPTIONS) : JSON.stringify(text);
        return `[${JSON.stringify(outPath)}, ${rendered}, ${body}]`;
      });
      return `${JSON.stringify(feature)}: [\n${files.join(",\n")}\n]`;
    });
  return `
import { hbs } from ${JSON.stringify(path.join(root, "src/render.ts"))};
const FEATURES = {\n${entries.join(",\n")}\n};
const cache = new Map();
export function loadTemplates(featureId) {
  let templates = cache.get(featureId);
  if (!templates) {
    templates = (FEATURES[featureId] ?? []).map(([path, rendered, body]) =>
      rendered ? { path, render: hbs.template(body) } : { path, render: () => body });
    cache.set(featureId, templates);
  }
  return templates;
}`;
}

/**
 * The esbuild options of the published bundle. The benchmark's profile builds with these
 * too (unminified), so it measures what users run. `outfile` names the entry; the chunks
 * go beside it (they must stay one folder below the package root: src/meta.ts reads
 * ../package.json relative to the module).
 */
export async function bundleOptions({ outfile = path.join(root, "dist/index.js"), ...overrides } = {}) {
  const contents = await precompiledTemplatesModule();
  return {
    entryPoints: { [path.basename(outfile, ".js")]: path.join(root, "src/index.ts") },
    outdir: path.dirname(outfile),
    splitting: true,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    legalComments: "none",
    // Only the Handlebars runtime: every template was compiled above. yaml's ES module build
    // (its "node" export is CommonJS, which esbuild cannot tree-shake): the bundle keeps the
    // stringifier the workflow needs and drops the parser.
    alias: { handlebars: "handlebars/runtime", yaml: path.join(root, "node_modules/yaml/browser/index.js") },
    plugins: [
      {
        name: "precompiled-templates",
        setup(b) {
          b.onResolve({ filter: /^\.\/templates\.js$/ }, (args) =>
            args.importer.startsWith(path.join(root, "src")) ? { path: "precompiled-templates", namespace: "templates" } : undefined,
          );
          b.onLoad({ filter: /.*/, namespace: "templates" }, () => ({ contents, loader: "js", resolveDir: root }));
        },
      },
    ],
    // Some bundled CommonJS code calls require(); give ESM output one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: "warning",
    ...overrides,
  };
}

// Run as a script (npm run build), not when the benchmark imports the options.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  // No chunk of an earlier build may linger: dist/ is published as it is.
  rmSync(path.join(root, "dist"), { recursive: true, force: true });
  await build(await bundleOptions());
}
