import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webDir = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: webDir,
  base: '/',
  plugins: [react()],
  build: { outDir: path.join(webDir, 'dist'), emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  // `vite dev` talks to a running server for the API.
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
