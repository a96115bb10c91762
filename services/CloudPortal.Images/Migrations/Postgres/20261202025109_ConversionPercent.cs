using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudPortal.Images.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ConversionPercent : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "ConversionPercent",
                table: "images",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ConversionPercent",
                table: "images");
        }
    }
}
