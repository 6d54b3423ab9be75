#!/usr/bin/env node
import '../dist/main/rewind.js';
