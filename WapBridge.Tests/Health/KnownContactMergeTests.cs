using WapBridge.Core.Engines;
using WapBridge.Core.Health;

namespace WapBridge.Tests.Health;

/// <summary>
/// What a sync hands to <see cref="NewContactBudget.RememberAsync"/>: one address per person, as KnownContacts holds each
/// number and each LID once per instance (a duplicate would make the batch insert fall back to one row at a time).
/// </summary>
[Trait("Category", "Unit")]
public sealed class KnownContactMergeTests
{
    [Fact]
    public void A_person_named_twice_is_one_address_keeping_the_LID_it_came_with()
    {
        var merged = KnownContactRecorder.Merge(
        [
            new EngineContactRef("255755000001", null),
            new EngineContactRef("255755000001", "190000000000001"),
            new EngineContactRef(null, "190000000000001"),
            new EngineContactRef(null, "190000000000002"),
            new EngineContactRef(null, "190000000000002"),
        ], ownNumber: null);

        Assert.Equal([new KnownContactAddress("255755000001", "190000000000001"), new KnownContactAddress(null, "190000000000002")], merged);
    }

    [Fact]
    public void Two_numbers_claiming_one_LID_keep_it_on_the_first_and_the_own_number_and_non_digits_are_nobody()
    {
        var merged = KnownContactRecorder.Merge(
        [
            new EngineContactRef("255755000001", "190000000000009"),
            new EngineContactRef("255755000002", "190000000000009"),
            new EngineContactRef("255700000001", null),
            new EngineContactRef("+255755000003", "abc"),
            new EngineContactRef(null, null),
        ], ownNumber: "255700000001");

        Assert.Equal([new KnownContactAddress("255755000001", "190000000000009"), new KnownContactAddress("255755000002", null)], merged);
    }
}
