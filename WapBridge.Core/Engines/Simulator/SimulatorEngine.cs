namespace WapBridge.Core.Engines.Simulator;

/// <summary>The embedded in-process WhatsApp network, for demos, tests and benchmarks.</summary>
public sealed class SimulatorEngine(SimulatorNetwork network) : IWhatsAppEngine
{
    public const string EngineName = "simulator";

    public string Name => EngineName;
    public string? UnavailableReason => network.Options.Enabled ? null : "The simulator is disabled (WapBridge:Engines:Simulator:Enabled=false).";
    public bool SupportsPairingCode => true;

    public IEngineSession CreateSession(EngineSessionContext context) => new SimulatorSession(network, context);
}
