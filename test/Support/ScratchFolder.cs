namespace Microsoft.ML.CompactTransformer.Tests.Support;

/// <summary>Deletes a test's scratch folder that ML.NET may still be cleaning up itself.</summary>
internal static class ScratchFolder
{
    /// <summary>
    /// Deletes <paramref name="path"/> and all it holds. A model that ML.NET failed to load leaves its repository folder
    /// (<c>ml_dotnet_*</c>) to a finalizer, which may remove it while <see cref="Directory.Delete(string, bool)"/> walks
    /// the tree and make that throw <see cref="DirectoryNotFoundException"/> for a part that is already gone; so run
    /// pending finalizers first and retry a delete that lost such a race.
    /// </summary>
    public static void Delete(string path)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        for (int attempt = 1; ; attempt++)
        {
            if (!Directory.Exists(path))
                return;
            try
            {
                Directory.Delete(path, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
            }
        }
    }
}
