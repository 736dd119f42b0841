/** Entry of the bundle (web/dist/app.js), loaded by index.html as a module: no inline script anywhere. */
import { startPage } from './app.ts';

startPage().catch((error: unknown) => {
  const box = document.getElementById('toast');
  if (box) {
    box.textContent = `The page could not start: ${error instanceof Error ? error.message : String(error)}`;
    box.className = 'toast show error';
  }
});
