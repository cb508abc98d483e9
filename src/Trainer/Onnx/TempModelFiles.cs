namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// ONNX files that back in-memory ML.NET models. ML.NET's OnnxTransformer reads its model file again when
/// the model is saved, so the file must outlive the transformer: its owner deletes it when it is disposed
/// (<see cref="CompactTransformerModel.Dispose"/>). They live in one folder per process, which is deleted when
/// the process exits, so files whose owner was never disposed do not outlive the process either (ML.NET's Stream
/// overload would leave them behind forever).
/// </summary>
internal static class TempModelFiles
{
    private static readonly object Gate = new();
    private static string? _folder;

    /// <summary>Writes <paramref name="bytes"/> to a new file and returns its path; a failed write leaves nothing behind.</summary>
    public static string Write(byte[] bytes)
    {
        string path = Path.Combine(Folder(), Guid.NewGuid().ToString("N") + ".onnx");
        AtomicFile.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Deletes a file <see cref="Write"/> returned, once nothing reads it any more.</summary>
    public static void Delete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { } // best effort: the process-exit clean-up tries again
        catch (UnauthorizedAccessException) { }
    }

    private static string Folder()
    {
        lock (Gate)
        {
            // Checked every time: something (a temp cleaner, a test) may have removed the folder since.
            if (_folder is null || !Directory.Exists(_folder))
            {
                string folder = _folder ?? Path.Combine(Path.GetTempPath(), "Microsoft.ML.CompactTransformer",
                    $"onnx-{Environment.ProcessId}-{Guid.NewGuid():N}");
                Directory.CreateDirectory(folder);
                if (_folder is null)
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(folder);
                _folder = folder;
            }
            return _folder;
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
            // The shared parent goes too once no other process uses it.
            var parent = Path.GetDirectoryName(folder)!;
            if (!Directory.EnumerateFileSystemEntries(parent).Any())
                Directory.Delete(parent);
        }
        catch (IOException) { } // best effort at exit: a file may still be open, or another process just created its folder
        catch (UnauthorizedAccessException) { }
    }
}
