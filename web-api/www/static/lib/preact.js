// Preact with its hooks and htm, from the one vendored module (static/vendor/, scripts/vendor-web).
// Every page imports from here, so the vendored version is named in one place.
export {
  html,
  render,
  h,
  Component,
  createContext,
  useState,
  useReducer,
  useEffect,
  useLayoutEffect,
  useRef,
  useMemo,
  useCallback,
  useContext,
} from '../vendor/htm-3.1.1/standalone.module.js';
