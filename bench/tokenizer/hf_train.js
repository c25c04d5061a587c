// HuggingFace tokenizers (npm `tokenizers` 0.23.2, the Rust trainer) training a byte-level BPE on one file, as the
// peer of `stepslm bench tokenizer`. Node's Tokenizer.train(files) takes no options: BpeTrainer defaults
// (vocab_size 30000, min_frequency 0, no special tokens, all threads through rayon). Prints one JSON line.
// Usage: node hf_train.js CORPUS.txt [OUT.json]
const { Tokenizer, BPE, byteLevelPreTokenizer } = require('tokenizers');

const [file, out] = process.argv.slice(2);
if (!file) {
  console.error('usage: node hf_train.js CORPUS.txt [OUT.json]');
  process.exit(2);
}
const tokenizer = new Tokenizer(BPE.empty());
tokenizer.setPreTokenizer(byteLevelPreTokenizer(false, true));
const start = process.hrtime.bigint();
tokenizer.train([file]);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
if (out) {
  tokenizer.save(out, false);
}
console.log(JSON.stringify({ trainMillis: ms, vocabSize: tokenizer.getVocabSize(true) }));
