using Ds01.Core;
using Ds01.Core.Gpu;
using Xunit;

namespace Ds01.Tests.Unit.Gpu;

public class NvidiaSmiParserTests
{
    internal static string Fixture(string machine, string file) =>
        File.ReadAllText(Path.Combine(RepoPaths.NvidiaSmiFixture(machine), file));

    internal static IReadOnlyList<Ds01GpuSlot> SlotsOf(string machine) =>
        NvidiaSmiParser.BuildSlots(NvidiaSmiParser.ParseList(Fixture(machine, "smi-L.txt")),
            NvidiaSmiParser.ParseQuery(Fixture(machine, "smi-query.csv")));

    [Fact]
    public void H100_is_one_full_gpu_slot()
    {
        var slots = SlotsOf("h100-80gb-mig-disabled");
        var s = Assert.Single(slots);
        Assert.Equal("0", s.Slot);
        Assert.Equal(0, s.Index);
        Assert.Equal("GPU-1223b8ad-b7aa-c6a2-1c05-fb85ef1e2a3d", s.Uuid);
        Assert.Equal("NVIDIA H100 80GB HBM3", s.Model);
        Assert.False(s.IsMig);
        Assert.Null(s.Profile);
        Assert.Equal(1.0, s.Weight);
        Assert.Equal(81559L, s.MemoryTotalMiB);
        Assert.Equal(0, s.UtilizationPercent);
        Assert.Equal(GpuSlotState.Free, s.State);
    }

    [Fact]
    public void H200_is_one_full_gpu_slot_with_its_memory()
    {
        var s = Assert.Single(SlotsOf("h200-141gb-mig-disabled"));
        Assert.Equal("NVIDIA H200", s.Model);
        Assert.Equal(143771L, s.MemoryTotalMiB);
        Assert.Equal("GPU-121417c7-b951-d982-b1ff-53508fe0d226", s.Uuid);
    }

    [Fact]
    public void A100_mixed_gives_full_gpus_and_mig_slots_with_weights()
    {
        var slots = SlotsOf("a100x4-mig-mixed-constructed");
        Assert.Equal(new[] { "0", "1", "2.0", "2.1", "2.2", "2.3", "3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6" },
            slots.Select(s => s.Slot));
        Assert.All(slots.Take(2), s => { Assert.False(s.IsMig); Assert.Equal(1.0, s.Weight); });
        var gpu2 = slots.Where(s => s.Index == 2).ToList();
        Assert.Equal(new[] { 3 / 7.0, 2 / 7.0, 1 / 7.0, 1 / 7.0 }, gpu2.Select(s => s.Weight));
        Assert.Equal(new[] { "3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb" }, gpu2.Select(s => s.Profile));
        Assert.Equal("MIG-1b2c3d4e-0201-5000-9000-000000000201", gpu2[1].Uuid);
        Assert.Equal("GPU-0a1b2c3d-0002-4000-8000-000000000002", gpu2[1].GpuUuid);
        var gpu3 = slots.Where(s => s.Index == 3).ToList();
        Assert.Equal(7, gpu3.Count);
        Assert.All(gpu3, s => { Assert.True(s.IsMig); Assert.Equal(1 / 7.0, s.Weight); Assert.Null(s.UtilizationPercent); });
        // A GPU in MIG mode is never itself a slot.
        Assert.DoesNotContain(slots, s => s.Slot is "2" or "3");
        Assert.Equal(67, slots[1].UtilizationPercent);
    }

    [Fact]
    public void Query_with_header_reads_column_order_from_the_header_and_strips_units()
    {
        var rows = NvidiaSmiParser.ParseQuery(Fixture("a100x4-mig-mixed-constructed", "smi-query.csv"));
        Assert.Equal(4, rows.Count);
        Assert.Equal("81920", rows[0]["memory.total"]);
        Assert.Equal("40211", rows[1]["memory.used"]);
        Assert.Null(rows[2].UtilizationPercent); // [N/A]
        Assert.Equal("Enabled", rows[3].MigModeCurrent);
        Assert.Equal("00000000:4E:00.0", rows[3]["pci.bus_id"]);
    }

    [Fact]
    public void Query_without_header_uses_the_callers_field_list()
    {
        var rows = NvidiaSmiParser.ParseQuery(Fixture("h200-141gb-mig-disabled", "smi-query-noheader.csv"),
            new[] { "index", "uuid", "mig.mode.current" });
        var row = Assert.Single(rows);
        Assert.Equal(0, row.Index);
        Assert.Equal("GPU-121417c7-b951-d982-b1ff-53508fe0d226", row.Uuid);
        Assert.Equal("Disabled", row.MigModeCurrent);
    }

    [Fact]
    public void Noheader_values_that_still_carry_units_read_as_numbers()
    {
        var rows = NvidiaSmiParser.ParseQuery("0, GPU-x, 81559 MiB, 12 %\n", new[] { "index", "uuid", "memory.total", "utilization.gpu" });
        Assert.Equal(81559L, rows[0].MemoryTotalMiB);
        Assert.Equal(12, rows[0].UtilizationPercent);
    }

    [Fact]
    public void Query_without_header_and_without_fields_is_refused()
    {
        var e = Assert.Throws<Ds01Exception>(() =>
            NvidiaSmiParser.ParseQuery(Fixture("h200-141gb-mig-disabled", "smi-query-noheader.csv")));
        Assert.Equal("NvidiaSmiOutputUnrecognised", e.ErrorId);
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_values_is_an_error_not_a_guess()
    {
        var e = Assert.Throws<Ds01Exception>(() => NvidiaSmiParser.ParseQuery("0, GPU-x\n", new[] { "index", "uuid", "name" }));
        Assert.Equal(Ds01ErrorKind.InvalidData, e.Kind);
        Assert.Contains("2 values for 3 fields", e.Message);
    }

    [Fact]
    public void List_tolerates_tabs_extra_spaces_crlf_and_plus_me_profiles()
    {
        var text = "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaaa-1111)\r\n" +
                   "\tMIG 1g.5gb+me  Device 0: (UUID: MIG-bbbb-2222)\r\n" +
                   "    MIG  3g.20gb Device   1:  (UUID: MIG-cccc-3333)\r\n\r\n";
        var gpu = Assert.Single(NvidiaSmiParser.ParseList(text));
        Assert.Equal("NVIDIA A100-SXM4-40GB", gpu.Model);
        Assert.Equal(new[] { "1g.5gb+me", "3g.20gb" }, gpu.MigDevices.Select(m => m.Profile));
        Assert.Equal(new[] { 0, 1 }, gpu.MigDevices.Select(m => m.Device));
        // No query row: the MIG lines decide that the GPU is in MIG mode.
        var slots = NvidiaSmiParser.BuildSlots(new[] { gpu }, Array.Empty<SmiQueryRow>());
        Assert.Equal(new[] { "0.0", "0.1" }, slots.Select(s => s.Slot));
        Assert.Equal(1 / 7.0 + 3 / 7.0, slots.Sum(s => s.Weight), 9);
    }

    [Fact]
    public void Mig_enabled_gpu_without_instances_offers_no_slot()
    {
        var list = NvidiaSmiParser.ParseList("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\n");
        var query = NvidiaSmiParser.ParseQuery("0, GPU-1, Enabled", new[] { "index", "uuid", "mig.mode.current" });
        Assert.Empty(NvidiaSmiParser.BuildSlots(list, query));
    }

    [Theory]
    [InlineData("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")]
    [InlineData("  MIG 1g.10gb Device 0: (UUID: MIG-orphan)")]
    [InlineData("GPU zero: broken line")]
    public void Unknown_list_lines_are_errors(string text)
    {
        var e = Assert.Throws<Ds01Exception>(() => NvidiaSmiParser.ParseList(text));
        Assert.Equal("NvidiaSmiOutputUnrecognised", e.ErrorId);
    }

    [Fact]
    public void Unreadable_mig_profile_fails_rather_than_weighing_nothing()
    {
        var list = NvidiaSmiParser.ParseList("GPU 0: X (UUID: GPU-1)\n  MIG weird Device 0: (UUID: MIG-2)\n");
        var e = Assert.Throws<Ds01Exception>(() => NvidiaSmiParser.BuildSlots(list, Array.Empty<SmiQueryRow>()));
        Assert.Equal("UnrecognisedMigProfile", e.ErrorId);
    }

    [Theory]
    [InlineData("1g.10gb", 1 / 7.0)]
    [InlineData("2g.20gb", 2 / 7.0)]
    [InlineData("4g.40gb", 4 / 7.0)]
    [InlineData("7g.80gb", 1.0)]
    [InlineData("1g.20gb", 1 / 7.0)]
    public void Mig_weight_is_compute_slices_over_seven(string profile, double expected)
    {
        Assert.True(Ds01GpuSlot.TryMigWeight(profile, out var w));
        Assert.Equal(expected, w, 12);
    }

    [Theory]
    [InlineData("8g.90gb")]
    [InlineData("0g.1gb")]
    [InlineData("g.10gb")]
    [InlineData("")]
    public void Impossible_profiles_have_no_weight(string profile) => Assert.False(Ds01GpuSlot.TryMigWeight(profile, out _));

    [Fact]
    public void Slot_ids_sort_numerically()
    {
        var ids = new[] { "10", "2.10", "2.2", "9", "2", "2.0" }.ToList();
        ids.Sort(Ds01GpuSlot.CompareSlotIds);
        Assert.Equal(new[] { "2", "2.0", "2.2", "2.10", "9", "10" }, ids);
    }
}
