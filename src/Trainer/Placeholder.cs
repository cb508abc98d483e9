namespace Microsoft.ML.CompactTransformer; internal static class Placeholder { }
