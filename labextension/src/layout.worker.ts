/**
 * The layout worker: ELK's own worker script, which answers elk-api's messages, so a big
 * graph is laid out off the UI thread.
 */
import 'elkjs/lib/elk-worker.js';
