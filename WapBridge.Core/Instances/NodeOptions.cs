namespace WapBridge.Core.Instances;

/// <summary>Section <c>WapBridge:Node</c>: this process's place in a cluster.</summary>
public sealed class NodeOptions
{
    public const string Section = "WapBridge:Node";

    /// <summary>Two digits; the NN in <c>INST-NN-NNNNNNN</c> of the instances this node hosts.</summary>
    public string Id { get; set; } = "01";
}
