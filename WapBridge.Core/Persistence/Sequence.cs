namespace WapBridge.Core.Persistence;

/// <summary>A named counter behind the public sequential ids (<c>CUST-0001</c>, <c>WAP-CAM-0001</c>, …).</summary>
public sealed class Sequence
{
    public required string Name { get; set; }
    public long Value { get; set; }
}
