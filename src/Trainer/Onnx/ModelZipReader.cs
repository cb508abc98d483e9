using System.Buffers.Binary;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Finds the Compact Transformer network inside a model zip written by <c>mlContext.Model.Save</c>, so that
/// training can continue from it. ML.NET's OnnxTransformer stores its model as a zip entry of its own
/// (<c>.../OnnxModel</c>: the ONNX bytes behind a length prefix) at a path that depends on where the transform
/// sits in the (possibly nested) chain, so every entry is examined rather than a fixed path; ours is the ONNX
/// model whose producer_name is this library's.
/// </summary>
public static class ModelZipReader
{
    /// <summary>Reads the Compact Transformer network from the model zip at <paramref name="zipPath"/>.</summary>
    /// <param name="zipPath">A zip written by <c>mlContext.Model.Save</c> for a chain that contains the network's scoring transforms.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="zipPath"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a zip, is truncated or damaged (an entry fails its size or CRC-32 check), holds no model exported
    /// by this library, or holds more than one; the message names the file.
    /// </exception>
    public static SavedCctModel Read(string zipPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(zipPath);
        if (!File.Exists(zipPath))
            throw new FileNotFoundException($"There is no model zip at '{zipPath}'.", zipPath);

        using (var zip = UntrustedZip.Open(zipPath, "a model saved with mlContext.Model.Save"))
        {
            var found = new List<SavedCctModel>();
            var otherOnnx = new List<string>();
            var unreadable = new List<string>();
            foreach (var entry in zip.Entries)
            {
                if (entry.Length == 0)
                    continue;
                byte[] bytes = zip.Read(entry); // every entry: a damaged zip is reported, whichever entry is hit
                bool first = true;
                foreach (int offset in PayloadOffsets(bytes))
                {
                    byte[] onnx = offset == 0 ? bytes : bytes[offset..];
                    string source = $"'{zipPath}' entry '{entry.FullName}'";
                    OnnxModelContents contents;
                    try
                    {
                        contents = OnnxModelReader.Read(onnx, source);
                    }
                    catch (InvalidDataException e)
                    {
                        // Most entries are not ONNX at all; keep the reason only where ML.NET puts an ONNX model,
                        // and only for the likeliest layout (the first candidate offset).
                        if (first && entry.Name == "OnnxModel")
                            unreadable.Add(e.Message);
                        first = false;
                        continue;
                    }
                    if (contents.IsCompactTransformerModel)
                        found.Add(new SavedCctModel(zipPath, entry.FullName, onnx, contents));
                    else
                        otherOnnx.Add($"{entry.FullName} (producer '{contents.ProducerName}')");
                    break;
                }
            }

            if (found.Count == 1)
                return found[0];
            if (found.Count > 1)
                throw new InvalidDataException(
                    $"'{zipPath}' holds {found.Count} Compact Transformer models ({string.Join(", ", found.Select(f => f.EntryName))}); expected one.");
            string detail = (otherOnnx.Count > 0 ? $" ONNX models of other producers: {string.Join(", ", otherOnnx)}." : "")
                + (unreadable.Count > 0 ? $" Unreadable ONNX entries: {string.Join(" ", unreadable)}" : "");
            throw new InvalidDataException(
                $"'{zipPath}' holds no Compact Transformer model: none of its {zip.Entries.Count} entries is an ONNX model " +
                $"exported by {OnnxModelSerializer.ProducerName}.{detail}");
        }
    }

    /// <summary>
    /// Where an ONNX model may start in an entry: after a length prefix equal to the rest of the entry (ML.NET
    /// writes byte arrays as an int32 count, and a large-model format could use an int64), else at the start.
    /// </summary>
    private static IEnumerable<int> PayloadOffsets(byte[] bytes)
    {
        if (bytes.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(bytes) == bytes.Length - 4)
            yield return 4;
        if (bytes.Length >= 8 && BinaryPrimitives.ReadInt64LittleEndian(bytes) == bytes.Length - 8)
            yield return 8;
        yield return 0;
    }
}
