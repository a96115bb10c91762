using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudPortal.Images.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class SharedQuotaLimitCache : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The Images cache becomes the shared one (CloudPortal.ServiceDefaults.Quotas): same rows, renamed, plus the
            // tombstone flag. Every existing row stays a limit in force; the first snapshot from Identity corrects any
            // default that an old override removal pinned.
            migrationBuilder.DropPrimaryKey(
                name: "PK_image_quota_limits",
                table: "image_quota_limits");

            migrationBuilder.RenameTable(
                name: "image_quota_limits",
                newName: "quota_limits");

            migrationBuilder.AddColumn<bool>(
                name: "Removed",
                table: "quota_limits",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddPrimaryKey(
                name: "PK_quota_limits",
                table: "quota_limits",
                columns: new[] { "ProjectId", "Resource" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_quota_limits",
                table: "quota_limits");

            // A tombstone meant "follow the default"; the old table has no way to say so.
            migrationBuilder.Sql("DELETE FROM quota_limits WHERE \"Removed\";");

            migrationBuilder.DropColumn(
                name: "Removed",
                table: "quota_limits");

            migrationBuilder.RenameTable(
                name: "quota_limits",
                newName: "image_quota_limits");

            migrationBuilder.AddPrimaryKey(
                name: "PK_image_quota_limits",
                table: "image_quota_limits",
                columns: new[] { "ProjectId", "Resource" });
        }
    }
}
