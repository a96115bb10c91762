using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace CloudPortal.Compute.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LaunchFlow : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "console_tokens",
                columns: table => new
                {
                    TokenHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    InstanceId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Address = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Port = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_console_tokens", x => x.TokenHash);
                });

            migrationBuilder.CreateTable(
                name: "flavors",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    VCpus = table.Column<int>(type: "integer", nullable: false),
                    RamMb = table.Column<int>(type: "integer", nullable: false),
                    DiskGb = table.Column<int>(type: "integer", nullable: false),
                    EphemeralGb = table.Column<int>(type: "integer", nullable: false),
                    ExtraSpecs = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: false),
                    IsPublic = table.Column<bool>(type: "boolean", nullable: false),
                    Description = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    DeletedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_flavors", x => x.Sequence);
                    table.UniqueConstraint("AK_flavors_Id", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "instance_actions",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    InstanceId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    RequestId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Operation = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: true),
                    UserName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Result = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    FaultCode = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    FaultMessage = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Detail = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_instance_actions", x => x.Sequence);
                    table.UniqueConstraint("AK_instance_actions_Id", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "instances",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: true),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    ReservationId = table.Column<Guid>(type: "uuid", nullable: false),
                    LaunchIndex = table.Column<int>(type: "integer", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Task = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    PowerState = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    PowerStateAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    FlavorId = table.Column<Guid>(type: "uuid", nullable: false),
                    FlavorName = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    VCpus = table.Column<int>(type: "integer", nullable: false),
                    RamMb = table.Column<int>(type: "integer", nullable: false),
                    DiskGb = table.Column<int>(type: "integer", nullable: false),
                    EphemeralGb = table.Column<int>(type: "integer", nullable: false),
                    FlavorExtraSpecs = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: false),
                    ImageId = table.Column<Guid>(type: "uuid", nullable: false),
                    ImageName = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    ImageSource = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true),
                    ImageProperties = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: false),
                    KeyName = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    PublicKey = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: true),
                    UserData = table.Column<string>(type: "character varying(90000)", maxLength: 90000, nullable: true),
                    Metadata = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: false),
                    ServerGroupId = table.Column<Guid>(type: "uuid", nullable: true),
                    RequestedZone = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    Host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    FailedAttempts = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: false),
                    FaultCode = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    FaultMessage = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    FaultDetails = table.Column<string>(type: "text", nullable: true),
                    FaultAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    TaskStartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LaunchedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    DeletedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Version = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_instances", x => x.Sequence);
                    table.UniqueConstraint("AK_instances_Id", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "key_pairs",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    PublicKey = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: false),
                    Fingerprint = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Generated = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedBy = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_key_pairs", x => x.Sequence);
                    table.UniqueConstraint("AK_key_pairs_Id", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "launch_requests",
                columns: table => new
                {
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    ClientToken = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    BodyHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ReservationId = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_launch_requests", x => new { x.ProjectId, x.ClientToken });
                });

            migrationBuilder.CreateTable(
                name: "quota_limits",
                columns: table => new
                {
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Resource = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Limit = table.Column<long>(type: "bigint", nullable: false),
                    Removed = table.Column<bool>(type: "boolean", nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_quota_limits", x => new { x.ProjectId, x.Resource });
                });

            migrationBuilder.CreateTable(
                name: "server_groups",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Policy = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    CreatedBy = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_server_groups", x => x.Sequence);
                    table.UniqueConstraint("AK_server_groups_Id", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "stray_domains",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    InstanceId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    FirstSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ReapedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Reason = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_stray_domains", x => x.Sequence);
                });

            migrationBuilder.CreateTable(
                name: "usage_segments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    InstanceId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    FlavorName = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    VCpus = table.Column<int>(type: "integer", nullable: false),
                    RamMb = table.Column<int>(type: "integer", nullable: false),
                    DiskGb = table.Column<int>(type: "integer", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    EndedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_usage_segments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "flavor_access",
                columns: table => new
                {
                    FlavorId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_flavor_access", x => new { x.FlavorId, x.ProjectId });
                    table.ForeignKey(
                        name: "FK_flavor_access_flavors_FlavorId",
                        column: x => x.FlavorId,
                        principalTable: "flavors",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "instance_tags",
                columns: table => new
                {
                    InstanceId = table.Column<Guid>(type: "uuid", nullable: false),
                    Key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Value = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_instance_tags", x => new { x.InstanceId, x.Key });
                    table.ForeignKey(
                        name: "FK_instance_tags_instances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_console_tokens_ExpiresAt",
                table: "console_tokens",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_flavor_access_ProjectId",
                table: "flavor_access",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_flavors_Name",
                table: "flavors",
                column: "Name",
                unique: true,
                filter: "\"DeletedAt\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_instance_actions_InstanceId_Sequence",
                table: "instance_actions",
                columns: new[] { "InstanceId", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_instance_actions_ProjectId_Sequence",
                table: "instance_actions",
                columns: new[] { "ProjectId", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_instance_tags_Key_Value",
                table: "instance_tags",
                columns: new[] { "Key", "Value" });

            migrationBuilder.CreateIndex(
                name: "IX_instances_Host_Status",
                table: "instances",
                columns: new[] { "Host", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_instances_ProjectId_Status",
                table: "instances",
                columns: new[] { "ProjectId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_instances_ReservationId",
                table: "instances",
                column: "ReservationId");

            migrationBuilder.CreateIndex(
                name: "IX_instances_ServerGroupId",
                table: "instances",
                column: "ServerGroupId");

            migrationBuilder.CreateIndex(
                name: "IX_instances_Status_Task",
                table: "instances",
                columns: new[] { "Status", "Task" });

            migrationBuilder.CreateIndex(
                name: "IX_key_pairs_ProjectId_Name",
                table: "key_pairs",
                columns: new[] { "ProjectId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_server_groups_ProjectId",
                table: "server_groups",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_stray_domains_Host_InstanceId",
                table: "stray_domains",
                columns: new[] { "Host", "InstanceId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_usage_segments_InstanceId_EndedAt",
                table: "usage_segments",
                columns: new[] { "InstanceId", "EndedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_usage_segments_ProjectId_StartedAt",
                table: "usage_segments",
                columns: new[] { "ProjectId", "StartedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "console_tokens");

            migrationBuilder.DropTable(
                name: "flavor_access");

            migrationBuilder.DropTable(
                name: "instance_actions");

            migrationBuilder.DropTable(
                name: "instance_tags");

            migrationBuilder.DropTable(
                name: "key_pairs");

            migrationBuilder.DropTable(
                name: "launch_requests");

            migrationBuilder.DropTable(
                name: "quota_limits");

            migrationBuilder.DropTable(
                name: "server_groups");

            migrationBuilder.DropTable(
                name: "stray_domains");

            migrationBuilder.DropTable(
                name: "usage_segments");

            migrationBuilder.DropTable(
                name: "flavors");

            migrationBuilder.DropTable(
                name: "instances");
        }
    }
}
