using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using WapBridge.Core.Common;

namespace WapBridge.Core.Persistence;

/// <summary>Stores a state enum as its <see cref="WireNames"/> string: the same text columns and values as before the enums.</summary>
public sealed class WireNameConverter<T>() : ValueConverter<T, string>(v => v.ToWire(), s => WireNames.FromWire<T>(s)) where T : struct, Enum;
