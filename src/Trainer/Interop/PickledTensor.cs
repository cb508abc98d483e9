namespace Microsoft.ML.CompactTransformer.Interop;

/// <summary>
/// A tensor as a torch.save pickle describes it (<c>torch._utils._rebuild_tensor_v2</c>): a view of a storage whose
/// bytes lie in the zip entry <c>data/&lt;StorageKey&gt;</c>. Nothing here has been checked against those bytes yet.
/// </summary>
/// <param name="Storage">The storage it views.</param>
/// <param name="StorageOffset">Index of its first element in the storage.</param>
/// <param name="Shape">Its dimensions.</param>
/// <param name="Stride">Elements to skip in the storage per step along each dimension.</param>
internal sealed record PickledTensor(PickledStorage Storage, long StorageOffset, long[] Shape, long[] Stride);

/// <summary>A storage of a torch.save file: its zip entry key, element type and element count.</summary>
/// <param name="Key">The entry is <c>data/&lt;Key&gt;</c> next to <c>data.pkl</c>.</param>
/// <param name="TypeName">The legacy storage class, e.g. <c>FloatStorage</c>.</param>
/// <param name="ElementSize">Bytes per element.</param>
/// <param name="ElementCount">Elements in the storage.</param>
internal sealed record PickledStorage(string Key, string TypeName, int ElementSize, long ElementCount);
