// `npm run bench` entry point: runs the CPU engine benchmark (bench/engine.ts) with the same arguments.
import './engine.js';
