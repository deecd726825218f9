namespace WapBridge.Core.Common;

/// <summary>The <c>limit</c>/<c>offset</c> pair every list endpoint takes (contract §1).</summary>
public readonly record struct Paging(int Limit, int Offset)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static Paging From(int? limit, int? offset)
    {
        var l = limit ?? DefaultLimit;
        var o = offset ?? 0;
        if (l < 1 || l > MaxLimit)
            throw WapBridgeException.Invalid("limit", "out_of_range", $"limit must be between 1 and {MaxLimit}");
        if (o < 0)
            throw WapBridgeException.Invalid("offset", "out_of_range", "offset must be 0 or more");
        return new Paging(l, o);
    }
}

public sealed record PagedList<T>(IReadOnlyList<T> Data, int Total, int Limit, int Offset);
