// biome-ignore-all lint: names here are used by the snippet placed at the @snippet line.
// Context of fragments that wire @quiesce/express into an Express app.
import { createExpressLifecycle } from '@quiesce/express';
import express from 'express';

const app = express();

// @snippet
