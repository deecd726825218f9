using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DefaultInstance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "DefaultInstanceId",
                table: "Customers",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "DefaultInstanceId",
                table: "Customers");
        }
    }
}
