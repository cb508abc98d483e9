using System.Runtime.CompilerServices;
using Microsoft.ML.CompactTransformer.Native;

namespace Microsoft.ML.CompactTransformer.Tests.Support;

/// <summary>
/// The whole test run uses libtorch's reference convolutions instead of oneDNN: the fixtures' tokenizer
/// outputs are matched within 1e-5 only with them (see <see cref="TorchRuntime.OneDnnConvolutions"/>).
/// It is a process-wide switch, and xunit runs classes in parallel, so it is set once, before any test.
/// </summary>
internal static class ReferenceNumerics
{
#pragma warning disable CA2255 // a test assembly's start-up is exactly what module initialisers are for
    [ModuleInitializer]
    internal static void UseReferenceConvolutions()
    {
        TorchRuntime.EnsureInitialized();
        TorchRuntime.OneDnnConvolutions = false;
    }
#pragma warning restore CA2255
}
