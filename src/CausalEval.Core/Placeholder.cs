namespace CausalEval.Core; internal static class Placeholder {}
