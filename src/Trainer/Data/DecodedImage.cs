namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// A private copy of a decoded image's interleaved 32-bit pixels, detached from any
/// <see cref="Microsoft.ML.Data.MLImage"/> (whose owner may dispose it at the next row).
/// </summary>
/// <param name="Pixels">Width * Height * 4 bytes, row after row, without padding.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Bgra">True for B, G, R, A byte order; false for R, G, B, A.</param>
internal sealed record DecodedImage(byte[] Pixels, int Width, int Height, bool Bgra);
