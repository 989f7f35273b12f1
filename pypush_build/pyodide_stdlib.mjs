// node pyodide_stdlib.mjs PYODIDE_DIR SOURCE_ZIP TARGET_ZIP
// Byte-compiles Pyodide's standard library with Pyodide itself (pyodide_stdlib.py says why).
import fs from "fs";
import path from "path";
import { fileURLToPath, pathToFileURL } from "url";

const [dist, source, target] = process.argv.slice(2).map((p) => path.resolve(p));
const { loadPyodide } = await import(pathToFileURL(path.join(dist, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: dist + path.sep });
pyodide.FS.writeFile("/source.zip", fs.readFileSync(source));
const here = path.dirname(fileURLToPath(import.meta.url));
pyodide.globals.set("SOURCE", "/source.zip");
pyodide.globals.set("TARGET", "/target.zip");
pyodide.runPython(fs.readFileSync(path.join(here, "pyodide_stdlib_compile.py"), "utf8"));
fs.writeFileSync(target, pyodide.FS.readFile("/target.zip"));
