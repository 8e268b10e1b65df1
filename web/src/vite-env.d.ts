/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** an online MapLibre style URL to use instead of the built-in offline basemap */
  readonly VITE_BASEMAP_STYLE_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
