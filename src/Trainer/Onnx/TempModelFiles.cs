namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// ONNX files that back in-memory ML.NET models. ML.NET's OnnxTransformer reads its model file again when
/// the model is saved, so the file must outlive the transformer; we keep them in one folder per process
/// and delete that folder when the process exits (ML.NET's Stream overload would leave them behind forever).
/// </summary>
internal static class TempModelFiles
{
    private static readonly object Gate = new();
    private static string? _folder;

    /// <summary>Writes <paramref name="bytes"/> to a new file and returns its path.</summary>
    public static string Write(byte[] bytes)
    {
        string path = Path.Combine(Folder(), Guid.NewGuid().ToString("N") + ".onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Folder()
    {
        lock (Gate)
        {
            if (_folder is null)
            {
                string folder = Path.Combine(Path.GetTempPath(), "Microsoft.ML.CompactTransformer",
                    $"onnx-{Environment.ProcessId}-{Guid.NewGuid():N}");
                Directory.CreateDirectory(folder);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(folder);
                _folder = folder;
            }
            return _folder;
        }
    }

    private static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { } // best effort at exit: a file may still be open
        catch (UnauthorizedAccessException) { }
    }
}
