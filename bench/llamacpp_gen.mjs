// llama.cpp (via node-llama-cpp 3.21.1 prebuilt CPU binary): timed greedy-ish generation from a GGUF.
// ../shared/anchors/llamacpp_gen.mjs plus the process CPU time (all threads) of the timed generation, which
// `stepslm bench generate` turns into tokens per CPU-second (robust to other load sharing the cores).
import { getLlama, LlamaCompletion } from 'node-llama-cpp';
const [modelPath, nTok, threads] = [process.argv[2], +(process.argv[3] || 200), +(process.argv[4] || 1)];
const llama = await getLlama({ gpu: false });
const model = await llama.loadModel({ modelPath });
const ctx = await model.createContext({ contextSize: 256, threads });
const comp = new LlamaCompletion({ contextSequence: ctx.getSequence() });
await comp.generateCompletion('ROMEO:', { maxTokens: 8 });
let n = 0; const t = performance.now(); const c0 = process.cpuUsage();
await comp.generateCompletion('ROMEO:', { maxTokens: nTok, temperature: 0.8, onTextChunk: () => {}, onToken: (tk) => { n += tk.length; } });
const dt = (performance.now() - t) / 1000; const cu = process.cpuUsage(c0);
console.log(`llama.cpp via node-llama-cpp 3.21.1: ${n} tokens in ${dt.toFixed(2)} s = ${(n / dt).toFixed(1)} tok/s (threads=${threads}); cpu ${((cu.user + cu.system) / 1e6).toFixed(3)} s`);
