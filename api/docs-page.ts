/**
 * A self-contained page that renders /openapi.json (no CDN: the machine may have no internet).
 * The script only builds DOM nodes with textContent, so nothing in the spec is interpreted as HTML.
 */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xtrader API</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ddd;margin-top:2rem} .op{border:1px solid #ddd;border-radius:6px;margin:.8rem 0;padding:.6rem .9rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace} .GET{color:#0a6}.POST{color:#06c}.DELETE{color:#c30}
code,pre{font-family:ui-monospace,monospace;background:#f6f6f6} pre{padding:.6rem;overflow:auto;white-space:pre-wrap}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
</style></head><body>
<h1 id="title">xtrader API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1, this page) · <a href="/asyncapi.json">/asyncapi.json</a> (AsyncAPI 3.0: the Redis, Kafka and RabbitMQ messages)</p><div id="intro"></div><h2>Routes</h2><div id="routes"></div><h2>Schemas</h2><div id="schemas"></div>
<script>
const el = (tag, text, cls) => { const node = document.createElement(tag); if (text !== undefined) node.textContent = text; if (cls) node.className = cls; return node; };
function markdown(target, text) {
  // Paragraphs and pipe tables only: enough for the description.
  let table = null;
  for (const line of text.split('\\n')) {
    if (line.startsWith('|')) {
      if (/^\\|\\s*---/.test(line)) continue;
      if (!table) { table = el('table'); target.append(table); }
      const row = el('tr');
      for (const cell of line.split('|').slice(1, -1)) row.append(el('td', cell.trim().replace(/\`/g, '')));
      table.append(row);
    } else { table = null; if (line.trim()) target.append(el('p', line.replace(/\\*\\*/g, '').replace(/\`/g, ''))); }
  }
}
fetch('/openapi.json').then((response) => response.json()).then((spec) => {
  document.getElementById('title').textContent = spec.info.title + ' ' + spec.info.version;
  markdown(document.getElementById('intro'), spec.info.description);
  const routes = document.getElementById('routes');
  for (const [path, item] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(item)) {
    const box = el('div', undefined, 'op'); const head = el('div');
    head.append(el('span', method.toUpperCase(), 'm ' + method.toUpperCase()), el('code', path), el('span', ' — ' + (op.summary || '')));
    box.append(head);
    if (op.security) box.append(el('div', 'auth: ' + op.security.map((s) => Object.keys(s).join('+')).join(' or ')));
    if (op.parameters) box.append(el('div', 'parameters: ' + op.parameters.map((p) => p.name + ' (' + p.in + ')').join(', ')));
    if (op.requestBody) box.append(el('pre', JSON.stringify(op.requestBody.content['application/json'].schema, null, 1)));
    box.append(el('div', 'responses: ' + Object.entries(op.responses).map(([code, r]) => code + ' ' + r.description).join('; ')));
    routes.append(box);
  }
  const schemas = document.getElementById('schemas');
  for (const [name, schema] of Object.entries(spec.components.schemas)) { schemas.append(el('h3', name), el('pre', JSON.stringify(schema, null, 1))); }
}).catch((error) => { document.body.append(el('p', 'could not load /openapi.json: ' + error)); });
</script></body></html>`;
}
