using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudPortal.Scheduler.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Placement : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-edited defaults: nodes that reported before placement existed start enabled, in the default
            // zone, with the default allocation ratios (4.0 / 1.0 / 1.0), like nodes registered from now on.
            migrationBuilder.AddColumn<string>(
                name: "AvailabilityZone",
                table: "compute_nodes",
                type: "character varying(255)",
                maxLength: 255,
                nullable: false,
                defaultValue: "nova");

            migrationBuilder.AddColumn<double>(
                name: "CpuAllocationRatio",
                table: "compute_nodes",
                type: "double precision",
                nullable: false,
                defaultValue: 4.0);

            migrationBuilder.AddColumn<string>(
                name: "DisabledReason",
                table: "compute_nodes",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "DiskAllocationRatio",
                table: "compute_nodes",
                type: "double precision",
                nullable: false,
                defaultValue: 1.0);

            migrationBuilder.AddColumn<bool>(
                name: "Enabled",
                table: "compute_nodes",
                type: "boolean",
                nullable: false,
                defaultValue: true);

            migrationBuilder.AddColumn<long>(
                name: "Generation",
                table: "compute_nodes",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<int>(
                name: "InstanceCount",
                table: "compute_nodes",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<double>(
                name: "RamAllocationRatio",
                table: "compute_nodes",
                type: "double precision",
                nullable: false,
                defaultValue: 1.0);

            migrationBuilder.AddColumn<long>(
                name: "ReservedDiskGb",
                table: "compute_nodes",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "ReservedMemoryMb",
                table: "compute_nodes",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<int>(
                name: "ReservedVCpus",
                table: "compute_nodes",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<long>(
                name: "UsedDiskGb",
                table: "compute_nodes",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "UsedMemoryMb",
                table: "compute_nodes",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<int>(
                name: "UsedVCpus",
                table: "compute_nodes",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "aggregates",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Metadata = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_aggregates", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "allocations",
                columns: table => new
                {
                    ConsumerId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    VCpus = table.Column<int>(type: "integer", nullable: false),
                    MemoryMb = table.Column<long>(type: "bigint", nullable: false),
                    DiskGb = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_allocations", x => x.ConsumerId);
                    table.ForeignKey(
                        name: "FK_allocations_compute_nodes_Host",
                        column: x => x.Host,
                        principalTable: "compute_nodes",
                        principalColumn: "Host",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "aggregate_hosts",
                columns: table => new
                {
                    AggregateId = table.Column<Guid>(type: "uuid", nullable: false),
                    Host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_aggregate_hosts", x => new { x.AggregateId, x.Host });
                    table.ForeignKey(
                        name: "FK_aggregate_hosts_aggregates_AggregateId",
                        column: x => x.AggregateId,
                        principalTable: "aggregates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_compute_nodes_AvailabilityZone",
                table: "compute_nodes",
                column: "AvailabilityZone");

            migrationBuilder.CreateIndex(
                name: "IX_aggregate_hosts_Host",
                table: "aggregate_hosts",
                column: "Host");

            migrationBuilder.CreateIndex(
                name: "IX_aggregates_Name",
                table: "aggregates",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_allocations_Host",
                table: "allocations",
                column: "Host");

            migrationBuilder.CreateIndex(
                name: "IX_allocations_ProjectId",
                table: "allocations",
                column: "ProjectId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "aggregate_hosts");

            migrationBuilder.DropTable(
                name: "allocations");

            migrationBuilder.DropTable(
                name: "aggregates");

            migrationBuilder.DropIndex(
                name: "IX_compute_nodes_AvailabilityZone",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "AvailabilityZone",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "CpuAllocationRatio",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "DisabledReason",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "DiskAllocationRatio",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "Enabled",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "Generation",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "InstanceCount",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "RamAllocationRatio",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "ReservedDiskGb",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "ReservedMemoryMb",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "ReservedVCpus",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "UsedDiskGb",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "UsedMemoryMb",
                table: "compute_nodes");

            migrationBuilder.DropColumn(
                name: "UsedVCpus",
                table: "compute_nodes");
        }
    }
}
