using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudPortal.Images.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ImageJobLease : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "JobLeaseHolder",
                table: "images",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "JobLeaseUntil",
                table: "images",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "JobLeaseHolder",
                table: "images");

            migrationBuilder.DropColumn(
                name: "JobLeaseUntil",
                table: "images");
        }
    }
}
